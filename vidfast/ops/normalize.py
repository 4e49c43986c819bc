"""``normalize_to_chw``: model preprocessing (resize + scale + mean/std) fused into one pass."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vidfast.ops import reference
from vidfast.ops._dispatch import as_batch, check_channels, check_size, cuda_call, host_call, pick_backend


def _per_channel(values: float | Sequence[float], c: int, name: str) -> list[float]:
    vals = [float(values)] * c if isinstance(values, (int, float)) else [float(v) for v in values]
    if len(vals) != c:
        raise ValueError(f"normalize_to_chw: {name} needs {c} values (one per channel), got {len(vals)}")
    if name == "std" and any(v <= 0 for v in vals):
        raise ValueError(f"normalize_to_chw: std values must be > 0, got {vals}")
    return vals


def normalize_to_chw(
    frames: Any,
    size: tuple[int, int],
    mean: float | Sequence[float],
    std: float | Sequence[float],
    backend: str = "auto",
) -> Any:
    """uint8 ``[H,W,C]`` / ``[N,H,W,C]`` -> float32 ``[C,h,w]`` / ``[N,C,h,w]`` model input.

    Computes ``(bilinear_resize(frames, size) / 255 - mean) / std`` per channel without rounding
    the resized pixels; ``mean``/``std`` are in [0, 1] units (e.g. CLIP's 0.4815, 0.4578, 0.4082).
    """
    oh, ow = check_size(size, "normalize_to_chw")
    batch, single = as_batch(frames, 4, "normalize_to_chw")
    check_channels(batch, (1, 3), "normalize_to_chw")
    n, h, w, c = batch.shape
    mean_c, std_c = _per_channel(mean, c, "mean"), _per_channel(std, c, "std")
    kind = pick_backend(backend, batch, "normalize_to_chw")
    if kind == "cuda":
        import torch

        out = cuda_call(
            "normalize_to_chw_f32", [batch], (n, c, oh, ow), torch.float32, n, h, w, c, oh, ow, mean_c, std_c
        )
    else:
        out = host_call(
            kind, "normalize_to_chw_f32", reference.normalize_to_chw, [batch], oh, ow, mean_c, std_c
        )
    return out[0] if single else out
