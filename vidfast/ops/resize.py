"""``resize``: batched uint8 NHWC resize with cv2.resize semantics."""

from __future__ import annotations

from typing import Any

from vidfast.ops import reference
from vidfast.ops._dispatch import as_batch, check_channels, check_size, cuda_call, host_call, pick_backend

INTERPOLATIONS = ("bilinear", "area")


def resize(frames: Any, size: tuple[int, int], interpolation: str = "bilinear", backend: str = "auto") -> Any:
    """Resize uint8 frames ``[H,W,C]`` or ``[N,H,W,C]`` (C = 1 or 3) to ``size = (height, width)``.

    ``bilinear`` matches ``cv2.INTER_LINEAR`` and ``area`` matches ``cv2.INTER_AREA`` within one LSB.
    Returns the same kind of array (numpy, or torch on the input's device) and the same rank.
    """
    oh, ow = check_size(size, "resize")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"resize: interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    batch, single = as_batch(frames, 4, "resize")
    check_channels(batch, (1, 3), "resize")
    kind = pick_backend(backend, batch, "resize")
    if kind == "cuda":
        n, h, w, c = batch.shape
        out = cuda_call("resize_u8", [batch], (n, oh, ow, c), batch.dtype, n, h, w, c, oh, ow, interpolation)
    else:
        out = host_call(kind, "resize_u8", reference.resize, [batch], oh, ow, interpolation)
    return out[0] if single else out
