"""``yuv420p_to_rgb``: the decode path's planar YUV 4:2:0 -> RGB conversion, with optional resize."""

from __future__ import annotations

from typing import Any

import numpy as np

from vidfast.ops import reference
from vidfast.ops._dispatch import as_batch, check_size, cuda_call, host_call, pick_backend

YUV_MATRICES = ("bt601", "bt709")


def split_yuv420p(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split PyAV's ``frame.to_ndarray(format="yuv420p")`` array ``[H*3/2, W]`` into y, u, v planes.

    PyAV packs the Y plane (H rows) followed by the U and V planes (each H/2 x W/2, stored back to
    back in rows of width W). Returns views ``[H, W]``, ``[H/2, W/2]``, ``[H/2, W/2]``.
    """
    rows, w = packed.shape
    h = rows * 2 // 3
    if packed.dtype != np.uint8 or h * 3 != rows * 2 or h % 2 or w % 2:
        raise ValueError(
            f"split_yuv420p: expected a uint8 [H*3/2, W] array with even H and W, got "
            f"{packed.dtype} {packed.shape}"
        )
    flat = np.ascontiguousarray(packed).reshape(-1)
    q = (h // 2) * (w // 2)
    return (
        flat[: h * w].reshape(h, w),
        flat[h * w : h * w + q].reshape(h // 2, w // 2),
        flat[h * w + q :].reshape(h // 2, w // 2),
    )


def _check_planes(y: Any, u: Any, v: Any) -> None:
    n, h, w = y.shape
    want = (n, (h + 1) // 2, (w + 1) // 2)
    if tuple(u.shape) != want or tuple(v.shape) != want:
        raise ValueError(
            f"yuv420p_to_rgb: for y of shape {tuple(y.shape)} u and v must be {want}, got "
            f"{tuple(u.shape)} and {tuple(v.shape)}"
        )


def yuv420p_to_rgb(
    y: Any,
    u: Any,
    v: Any,
    size: tuple[int, int] | None = None,
    matrix: str = "bt601",
    full_range: bool = False,
    backend: str = "auto",
) -> Any:
    """Convert planar YUV 4:2:0 to RGB uint8 ``[..., out_h, out_w, 3]``, optionally resized (bilinear).

    ``y`` is ``[H, W]`` or ``[N, H, W]``; ``u``/``v`` are ``[(N,) ceil(H/2), ceil(W/2)]`` (use
    ``split_yuv420p`` for PyAV's packed array). ``matrix`` is bt601 or bt709; ``full_range`` selects
    JPEG/full (0-255) instead of limited/TV (16-235) levels. Chroma is upsampled nearest, as FFmpeg's
    swscale fast path does; with ``size`` the result equals converting then ``resize(..., "bilinear")``.
    """
    if matrix not in YUV_MATRICES:
        raise ValueError(f"yuv420p_to_rgb: matrix must be one of {YUV_MATRICES}, got {matrix!r}")
    (yb, single), (ub, _), (vb, _) = (
        as_batch(p, 3, "yuv420p_to_rgb", name) for p, name in ((y, "y"), (u, "u"), (v, "v"))
    )
    _check_planes(yb, ub, vb)
    n, h, w = yb.shape
    oh, ow = check_size(size, "yuv420p_to_rgb") if size is not None else (h, w)
    kind = pick_backend(backend, yb, "yuv420p_to_rgb")
    args = (oh, ow, matrix, bool(full_range))
    if kind == "cuda":
        out = cuda_call("yuv420p_to_rgb", [yb, ub, vb], (n, oh, ow, 3), yb.dtype, n, h, w, *args)
    else:
        out = host_call(kind, "yuv420p_to_rgb", reference.yuv420p_to_rgb, [yb, ub, vb], *args)
    return out[0] if single else out
