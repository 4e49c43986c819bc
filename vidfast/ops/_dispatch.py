"""Backend choice and array plumbing shared by the ops: batching, dtype/rank checks, numpy<->torch."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from vidfast import _native
from vidfast.errors import BackendUnavailable, ConfigError

BACKENDS = ("auto", "native", "reference", "cuda")


def available_backends() -> dict[str, str | None]:
    """Each explicit backend mapped to ``None`` when usable here, else the reason it is not."""
    cuda = None if _native.HAS_CUDA_KERNELS else (_native.NATIVE_IMPORT_ERROR or "built without CUDA kernels")
    if cuda is None and not _native.cuda_runtime_available():
        cuda = "no CUDA device visible to torch"
    return {"native": _native.NATIVE_IMPORT_ERROR, "reference": None, "cuda": cuda}


def is_torch(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def is_cuda_tensor(x: Any) -> bool:
    return is_torch(x) and x.is_cuda


def pick_backend(backend: str, x: Any, op: str) -> str:
    """Resolve ``backend`` for input ``x`` to "cuda", "native" or "reference" (raising when unusable)."""
    if backend not in BACKENDS:
        raise ConfigError(f"{op}: unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if backend == "auto":
        if is_cuda_tensor(x) and _native.HAS_CUDA_KERNELS:
            return "cuda"
        return "native" if _native.HAS_NATIVE else "reference"
    if backend == "cuda":
        if not is_cuda_tensor(x):
            raise BackendUnavailable(
                f"{op}: backend='cuda' takes torch CUDA tensors, got {type(x).__name__}; "
                "move the input with tensor.cuda() or use backend='native'"
            )
        _native.require_cuda_kernels(f"vidfast.ops.{op}(backend='cuda')")
    elif backend == "native":
        _native.require_native(f"vidfast.ops.{op}(backend='native')")
    return backend


def check_uint8(x: Any, op: str, name: str = "frames") -> None:
    ok = x.dtype == np.uint8 if isinstance(x, np.ndarray) else (is_torch(x) and str(x.dtype) == "torch.uint8")
    if not ok:
        raise ValueError(
            f"{op}: {name} must be uint8 (numpy array or torch tensor), got {getattr(x, 'dtype', type(x))}"
        )


def as_batch(x: Any, rank: int, op: str, name: str = "frames") -> tuple[Any, bool]:
    """``x`` with a leading batch axis (added when it has ``rank - 1`` dims) and whether one was added."""
    if not (isinstance(x, np.ndarray) or is_torch(x)):
        x = np.asarray(x)
    check_uint8(x, op, name)
    if x.ndim == rank - 1:
        return x[None], True
    if x.ndim != rank:
        raise ValueError(
            f"{op}: {name} must have {rank - 1} dims (one frame) or {rank} (a batch), got shape "
            f"{tuple(x.shape)}"
        )
    return x, False


def check_channels(x: Any, allowed: Sequence[int], op: str) -> None:
    if x.shape[-1] not in allowed:
        raise ValueError(
            f"{op}: frames must be NHWC with {' or '.join(map(str, allowed))} channels, "
            f"got shape {tuple(x.shape)}"
        )


def check_size(size: Any, op: str) -> tuple[int, int]:
    """``size`` as a validated (height, width) pair of positive ints."""
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"{op}: size must be (height, width), got {size!r}") from None
    if h < 1 or w < 1:
        raise ValueError(f"{op}: size must be positive, got {(h, w)}")
    return h, w


def to_numpy(x: Any) -> np.ndarray:
    """A C-contiguous numpy view/copy of ``x`` (copies torch tensors to the host)."""
    if is_torch(x):
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(x)


def like(out: np.ndarray, template: Any) -> Any:
    """``out`` as the same kind of array as ``template`` (torch tensors go back to their device)."""
    if is_torch(template):
        import torch

        return torch.from_numpy(out).to(template.device)
    return out


def host_call(
    kind: str, name: str, reference_fn: Callable[..., np.ndarray], arrays: Sequence[Any], *args: Any
) -> Any:
    """Run ``_C.<name>`` (kind "native") or ``reference_fn`` on host copies of ``arrays``."""
    host = [to_numpy(a) for a in arrays]
    fn = getattr(_native.require_native(name), name) if kind == "native" else reference_fn
    return like(fn(*host, *args), arrays[0])


def cuda_call(name: str, arrays: Sequence[Any], out_shape: Sequence[int], out_dtype: Any, *args: Any) -> Any:
    """Enqueue ``_C.<name>_cuda`` on torch's current stream; returns the new output tensor."""
    import torch

    module = _native.require_cuda_kernels(f"vidfast.ops ({name})")
    device = arrays[0].device
    if any(a.device != device for a in arrays):
        raise ValueError(f"{name}: all inputs must be on the same device")
    arrays = [a.contiguous() for a in arrays]
    out = torch.empty(tuple(out_shape), dtype=out_dtype, device=device)
    with torch.cuda.device(device):
        stream = torch.cuda.current_stream(device).cuda_stream
        getattr(module, f"{name}_cuda")(*(a.data_ptr() for a in arrays), out.data_ptr(), *args, stream)
    return out
