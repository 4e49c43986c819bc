"""The only module that imports the native extension ``vidfast._C``.

Everything else asks here: ``HAS_NATIVE`` / ``HAS_CUDA_KERNELS`` say what was built,
``NATIVE_IMPORT_ERROR`` says why not, ``require_native(feature)`` returns the module or raises
``BackendUnavailable`` with the original error and the fix. ``VIDFAST_DISABLE_NATIVE=1`` makes the
package behave as if the extension had not been built.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from vidfast import envs
from vidfast.errors import BackendUnavailable

_BUILD_FIX = (
    "rebuild with a C++17 compiler and CMake available: `pip install .` (or `pip install -e .`) "
    "without VIDFAST_SKIP_NATIVE=1"
)
_CUDA_FIX = "rebuild with nvcc on PATH: `VIDFAST_TARGET_DEVICE=cuda pip install .`"


def _load() -> tuple[ModuleType | None, str | None]:
    if envs.flag("VIDFAST_DISABLE_NATIVE"):
        return None, "disabled by VIDFAST_DISABLE_NATIVE=1"
    # The kernels run many short OpenMP regions; spinning idle threads (libgomp's default) steal the
    # CPU from the caller on a busy machine and made resize 5x slower in bench/bench_ops.py. libgomp
    # reads this once when _C loads it; an explicit user setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        from vidfast import _C
    except ImportError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return _C, None


_C, NATIVE_IMPORT_ERROR = _load()
HAS_NATIVE: bool = _C is not None
HAS_CUDA_KERNELS: bool = HAS_NATIVE and bool(_C.build_info().get("cuda"))


def build_info() -> dict[str, Any]:
    """What the extension was built with, or why it is unavailable."""
    if not HAS_NATIVE:
        return {
            "native": False,
            "cuda": False,
            "cuda_archs": "",
            "openmp": False,
            "reason": NATIVE_IMPORT_ERROR,
        }
    info = dict(_C.build_info())
    info["native"] = True
    info["reason"] = (
        None if info["cuda"] else "built without CUDA kernels (no nvcc, or VIDFAST_TARGET_DEVICE=cpu)"
    )
    return info


def cuda_runtime_available() -> bool:
    """True when torch is importable and sees a CUDA device; never raises."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - a broken torch install means "no CUDA", not a crash
        return False


def require_native(feature: str) -> ModuleType:
    """The ``vidfast._C`` module, or ``BackendUnavailable`` saying why it is missing and how to fix it."""
    if _C is None:
        fix = "unset VIDFAST_DISABLE_NATIVE" if envs.flag("VIDFAST_DISABLE_NATIVE") else _BUILD_FIX
        raise BackendUnavailable(
            f"{feature} needs the native extension vidfast._C, which is unavailable "
            f"({NATIVE_IMPORT_ERROR}); fix: {fix}"
        )
    return _C


def require_cuda_kernels(feature: str) -> ModuleType:
    """Like ``require_native`` but also needs the CUDA kernels compiled in."""
    module = require_native(feature)
    if not HAS_CUDA_KERNELS:
        raise BackendUnavailable(
            f"{feature} needs the CUDA kernels of vidfast._C, but it was built without CUDA; fix: {_CUDA_FIX}"
        )
    return module
