"""``convert_color``: batched uint8 colour conversions with OpenCV 8-bit semantics."""

from __future__ import annotations

from typing import Any

from vidfast.ops import reference
from vidfast.ops._dispatch import as_batch, check_channels, cuda_call, host_call, pick_backend

COLOR_CODES = ("rgb2bgr", "bgr2rgb", "rgb2gray", "bgr2gray", "rgb2hsv", "bgr2hsv")


def convert_color(frames: Any, code: str, backend: str = "auto") -> Any:
    """Convert uint8 RGB/BGR frames ``[H,W,3]`` or ``[N,H,W,3]``; equals ``cv2.cvtColor`` exactly.

    ``code``: rgb2bgr, bgr2rgb, rgb2gray, bgr2gray (output keeps a channel axis of 1), rgb2hsv,
    bgr2hsv (OpenCV 8-bit HSV: H in [0, 180), S and V in [0, 255]).
    """
    if code not in COLOR_CODES:
        raise ValueError(f"convert_color: unknown code {code!r}; valid: {', '.join(COLOR_CODES)}")
    batch, single = as_batch(frames, 4, "convert_color")
    check_channels(batch, (3,), "convert_color")
    kind = pick_backend(backend, batch, "convert_color")
    if kind == "cuda":
        n, h, w, _ = batch.shape
        oc = 1 if code.endswith("gray") else 3
        out = cuda_call("convert_color_u8", [batch], (n, h, w, oc), batch.dtype, n, h, w, code)
    else:
        out = host_call(kind, "convert_color_u8", reference.convert_color, [batch], code)
    return out[0] if single else out
