"""Which backends of each stage family can run here, and why not when they cannot.

Each backend has a check that returns ``None`` when it is usable or a reason naming the fix. The
dispatcher ``choose`` honours an explicit choice (raising ``BackendUnavailable`` with the reason) and
otherwise walks the family's priority list. ``vidfast info`` prints the whole table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from vidfast.errors import BackendUnavailable


@cache
def _import_error(module: str) -> str | None:
    try:
        importlib.import_module(module)
    except Exception as exc:  # ImportError, or a broken install raising something else
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
    return None


def needs(module: str, install: str) -> Callable[[], str | None]:
    """A check that passes when ``module`` imports."""

    def check() -> str | None:
        err = _import_error(module)
        return f"{module} does not import ({err}); install with: {install}" if err else None

    return check


@cache
def cuda_reason() -> str | None:
    """None when a CUDA device is usable from torch, else why not."""
    if _import_error("torch"):
        return "torch is not installed (pip install torch)"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA device visible to torch (CPU-only build or no GPU)"
    return None


def all_of(*checks: Callable[[], str | None]) -> Callable[[], str | None]:
    def check() -> str | None:
        for c in checks:
            reason = c()
            if reason:
                return reason
        return None

    return check


def _native(cuda: bool) -> Callable[[], str | None]:
    def check() -> str | None:
        from vidfast import _native

        if not _native.HAS_NATIVE:
            return f"vidfast._C is not available: {_native.NATIVE_IMPORT_ERROR}"
        if cuda and not _native.HAS_CUDA_KERNELS:
            return "vidfast._C was built without CUDA kernels (rebuild with nvcc on PATH, VIDFAST_TARGET_DEVICE=cuda)"
        return cuda_reason() if cuda else None

    return check


def _llm(name: str) -> Callable[[], str | None]:
    """The LLM engine's own availability check (one source of truth for ``vidfast info`` and runs)."""

    def check() -> str | None:
        from vidfast.llm.engine import unavailable_reason

        return unavailable_reason(name)

    return check


def _transformers_llm_note() -> str:
    """Which grammar engine the transformers LLM backend constrains JSON answers with (or that none is)."""
    from vidfast.llm.grammar import INSTALL, grammar_engine

    engine = grammar_engine()
    if engine:
        return f"reference; JSON answers grammar-constrained by {engine}"
    return f"reference; no grammar engine, JSON by prompting only ({INSTALL})"


@dataclass(frozen=True)
class Backend:
    family: str
    name: str
    check: Callable[[], str | None]
    note: str | Callable[[], str] = ""  # a callable when the note depends on what is installed

    def reason(self) -> str | None:
        return self.check()

    def describe(self) -> str:
        """The note shown by ``vidfast info``."""
        return self.note() if callable(self.note) else self.note


_always: Callable[[], str | None] = lambda: None  # noqa: E731
_cuda: Callable[[], str | None] = lambda: cuda_reason()  # noqa: E731

# Priority order within a family: fastest first; the reference backend is always last.
BACKENDS: list[Backend] = [
    Backend("decode", "dali", all_of(needs("nvidia.dali", "pip install 'vidfast[dali]'"), _cuda),
            "NVDEC through DALI (decode.backend=dali); frames stay on the GPU"),
    Backend("decode", "dali-cpu", needs("nvidia.dali", "pip install 'vidfast[dali]'"),
            "DALI's CPU decoder: VP8/VP9/MJPEG only (decode.backend=dali without a GPU)"),
    Backend("decode", "nvdec", all_of(needs("PyNvVideoCodec", "pip install pynvvideocodec"), _cuda),
            "NVDEC through PyNvVideoCodec (decode.backend=nvdec)"),
    Backend("decode", "pyav", needs("av", "pip install av"), "FFmpeg, threaded; reference"),
    Backend("ops", "cuda", _native(cuda=True), "CUDA kernels in vidfast._C"),
    Backend("ops", "native", _native(cuda=False), "C++/OpenMP kernels in vidfast._C"),
    Backend("ops", "reference", _always, "numpy; test oracle"),
    Backend("vision", "tensorrt", all_of(needs("tensorrt", "pip install tensorrt-cu13 (needs NVIDIA's index)"), _cuda)),
    Backend("vision", "onnxruntime", needs("onnxruntime", "pip install onnxruntime (or onnxruntime-gpu)")),
    Backend("vision", "torch", all_of(needs("torch", "pip install torch"), needs("transformers", "pip install transformers")),
            "reference"),
    Backend("similarity", "faiss-gpu", all_of(needs("faiss", "pip install faiss-gpu-cu12"), _cuda)),
    Backend("similarity", "faiss-cpu", needs("faiss", "pip install faiss-cpu"), "cross-video search"),
    Backend("similarity", "torch-cuda", _cuda),
    Backend("similarity", "numpy", _always, "reference"),
    Backend("llm", "vllm", _llm("vllm"), "in-process offline batches"),
    Backend("llm", "openai-http", _llm("openai"), "a local OpenAI-compatible server"),
    Backend("llm", "transformers", _llm("transformers"), _transformers_llm_note),
    Backend("executor", "ray", needs("ray", "pip install 'ray[data]'"), "multi-GPU / multi-node"),
    Backend("executor", "local", _always, "threads + bounded queues; reference"),
]


def family(name: str) -> list[Backend]:
    return [b for b in BACKENDS if b.family == name]


def choose(family_name: str, requested: str = "auto") -> Backend:
    """The backend to use: the requested one (which must be available) or the first available."""
    candidates = family(family_name)
    if not candidates:
        raise BackendUnavailable(f"unknown backend family {family_name!r}")
    if requested != "auto":
        match = [b for b in candidates if b.name == requested]
        if not match:
            names = ", ".join(["auto"] + [b.name for b in candidates])
            raise BackendUnavailable(f"unknown {family_name} backend {requested!r}; choose one of: {names}")
        reason = match[0].reason()
        if reason:
            raise BackendUnavailable(f"{family_name} backend {requested!r} is unavailable: {reason}")
        return match[0]
    reasons = []
    for backend in candidates:
        reason = backend.reason()
        if reason is None:
            return backend
        reasons.append(f"{backend.name}: {reason}")
    raise BackendUnavailable(f"no {family_name} backend is available: " + "; ".join(reasons))
