"""Pure-numpy implementations of every op: the fallback when vidfast._C is absent and the test oracle.

They follow the native kernels' arithmetic step for step (same fixed-point weights, same float32
operation order), so native and reference agree bit for bit, except INTER_AREA's general
downscale, which may differ by one LSB where float rounding lands on .5. All take batches:
uint8 NHWC ``[N, H, W, C]`` (planes ``[N, H, W]`` for YUV).
"""

from __future__ import annotations

import math

import numpy as np

COEF_BITS = 11
COEF_ONE = 1 << COEF_BITS
ROW_SHIFT = 4  # the vertical intermediate is kept in int16 range
H_SHIFT = 2 * COEF_BITS - ROW_SHIFT
F32 = np.float32


def _scale(src: int, dst: int) -> float:
    return 1.0 / (dst / src)  # computed as OpenCV does; matters in the last bit


def linear_coords(src: int, dst: int, area_mode: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first index, second index, float32 fraction) per output coordinate (OpenCV INTER_LINEAR rules)."""
    scale = _scale(src, dst)
    d = np.arange(dst, dtype=np.float64)
    if not area_mode:
        f = ((d + 0.5) * scale - 0.5).astype(F32)
        s = np.floor(f).astype(np.int64)
        f = f - s.astype(F32)
    else:
        s = np.floor(d * scale).astype(np.int64)
        f = ((d + 1) - (s + 1) / scale).astype(F32)
        f = np.where(f <= 0, F32(0), f - np.floor(f)).astype(F32)
    f = np.where((s < 0) | (s >= src - 1), F32(0), f).astype(F32)
    s = np.clip(s, 0, src - 1)
    return s, np.minimum(s + 1, src - 1), f


def fixed_weights(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """11-bit weights (w0, w1) rounded half-to-even, as saturate_cast<short>(float)."""
    return (
        np.rint((F32(1) - f) * F32(COEF_ONE)).astype(np.int32),
        np.rint(f * F32(COEF_ONE)).astype(np.int32),
    )


def _resize_linear(x: np.ndarray, oh: int, ow: int, area_mode: bool) -> np.ndarray:
    y0, y1, fy = linear_coords(x.shape[1], oh, area_mode)
    x0, x1, fx = linear_coords(x.shape[2], ow, area_mode)
    (b0, b1), (a0, a1) = fixed_weights(fy), fixed_weights(fx)
    src = x.astype(np.int32)
    # Vertical first, kept in 16-bit range (>> ROW_SHIFT), then horizontal; as the native kernels.
    rows = (
        src[:, y0] * b0[None, :, None, None] + src[:, y1] * b1[None, :, None, None] + (1 << (ROW_SHIFT - 1))
    )
    rows >>= ROW_SHIFT
    v = rows[:, :, x0] * a0[None, None, :, None] + rows[:, :, x1] * a1[None, None, :, None]
    return ((v + (1 << (H_SHIFT - 1))) >> H_SHIFT).astype(np.uint8)


def _integer_factor(src: int, dst: int) -> int:
    s = _scale(src, dst)
    return round(s) if abs(s - round(s)) < 2.220446049250313e-16 else 0


def _resize_area_int(x: np.ndarray, oh: int, ow: int, fy: int, fx: int) -> np.ndarray:
    n, _, _, c = x.shape
    blocks = x[:, : oh * fy, : ow * fx].reshape(n, oh, fy, ow, fx, c).astype(np.int64)
    sums = blocks.sum(axis=(2, 4)).astype(F32)
    return np.clip(np.rint(sums * (F32(1) / F32(fx * fy))), 0, 255).astype(np.uint8)


def area_cells(src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    """Per output cell, padded source indices [dst, K] and float32 weights [dst, K] (OpenCV INTER_AREA)."""
    scale = _scale(src, dst)
    cells = []
    for d in range(dst):
        f1 = d * scale
        f2 = f1 + scale
        cell = min(scale, src - f1)
        s2 = min(math.floor(f2), src - 1)
        s1 = min(math.ceil(f1), s2)
        terms = [(s1 - 1, (s1 - f1) / cell)] if s1 - f1 > 1e-3 else []
        terms += [(i, 1.0 / cell) for i in range(s1, s2)]
        if f2 - s2 > 1e-3:
            terms.append((s2, min(min(f2 - s2, 1.0), cell) / cell))
        cells.append(terms)
    k = max(len(t) for t in cells)
    idx = np.zeros((dst, k), np.int64)
    wts = np.zeros((dst, k), F32)
    for d, terms in enumerate(cells):
        for j, (i, w) in enumerate(terms):
            idx[d, j], wts[d, j] = i, F32(w)
    return idx, wts


def _resize_area_general(x: np.ndarray, oh: int, ow: int) -> np.ndarray:
    yi, yw = area_cells(x.shape[1], oh)
    xi, xw = area_cells(x.shape[2], ow)
    rows = np.zeros((x.shape[0], oh, x.shape[2], x.shape[3]), F32)
    for j in range(yi.shape[1]):  # vertical first, same float32 order as the native kernel
        rows = rows + x[:, yi[:, j]].astype(F32) * yw[None, :, j, None, None]
    acc = np.zeros((x.shape[0], oh, ow, x.shape[3]), F32)
    for k in range(xi.shape[1]):
        acc = acc + rows[:, :, xi[:, k]] * xw[None, None, :, k, None]
    return np.clip(np.rint(acc), 0, 255).astype(np.uint8)


def resize(x: np.ndarray, oh: int, ow: int, interpolation: str = "bilinear") -> np.ndarray:
    """uint8 [N,H,W,C] -> [N,oh,ow,C] with cv2.resize INTER_LINEAR / INTER_AREA semantics."""
    h, w = x.shape[1:3]
    area = interpolation == "area"
    if not area or _scale(h, oh) < 1.0 or _scale(w, ow) < 1.0:
        return _resize_linear(x, oh, ow, area_mode=area)
    fy, fx = _integer_factor(h, oh), _integer_factor(w, ow)
    return _resize_area_int(x, oh, ow, fy, fx) if fy and fx else _resize_area_general(x, oh, ow)


GRAY_COEFFS, GRAY_SHIFT = (9798, 19235, 3735), 15  # OpenCV 4.x+ 8-bit RGB->gray
HSV_SHIFT = 12
_IDX = np.arange(256, dtype=np.float64)
with np.errstate(divide="ignore"):
    HSV_SDIV = np.where(_IDX == 0, 0, np.rint((255 << HSV_SHIFT) / np.maximum(_IDX, 1))).astype(np.int64)
    HSV_HDIV = np.where(_IDX == 0, 0, np.rint((180 << HSV_SHIFT) / (6.0 * np.maximum(_IDX, 1)))).astype(
        np.int64
    )


def _hsv(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    v = np.maximum(np.maximum(r, g), b)
    diff = v - np.minimum(np.minimum(r, g), b)
    half = 1 << (HSV_SHIFT - 1)
    s = (diff * HSV_SDIV[v] + half) >> HSV_SHIFT
    h = np.where(v == r, g - b, np.where(v == g, b - r + 2 * diff, r - g + 4 * diff))
    h = (h * HSV_HDIV[diff] + half) >> HSV_SHIFT
    h = np.where(h < 0, h + 180, h)
    return np.stack([h, s, v], axis=-1).astype(np.uint8)


def convert_color(x: np.ndarray, code: str) -> np.ndarray:
    """uint8 [N,H,W,3] -> [N,H,W,3] (swap, hsv) or [N,H,W,1] (gray), OpenCV 8-bit semantics."""
    if code in ("rgb2bgr", "bgr2rgb"):
        return np.ascontiguousarray(x[..., ::-1])
    p = x.astype(np.int64)
    r, g, b = (
        (p[..., 2], p[..., 1], p[..., 0]) if code.startswith("bgr") else (p[..., 0], p[..., 1], p[..., 2])
    )
    if code.endswith("gray"):
        cr, cg, cb = GRAY_COEFFS
        return ((r * cr + g * cg + b * cb + (1 << (GRAY_SHIFT - 1))) >> GRAY_SHIFT).astype(np.uint8)[
            ..., None
        ]
    return _hsv(r, g, b)


YUV_KR_KB = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}


def yuv_coeffs(matrix: str, full_range: bool) -> tuple[int, int, int, int, int, int]:
    """(y_off, cy, crv, cgu, cgv, cbu) in 16-bit fixed point, as csrc/yuv/yuv.h computes them."""
    kr, kb = YUV_KR_KB[matrix]
    kg = 1.0 - kr - kb
    ys, cs = (1.0, 1.0) if full_range else (255.0 / 219.0, 255.0 / 224.0)

    def fixed(c: float) -> int:
        return math.floor(c * 65536.0 + 0.5)

    return (
        0 if full_range else 16,
        fixed(ys),
        fixed(2.0 * (1.0 - kr) * cs),
        fixed(2.0 * kb * (1.0 - kb) / kg * cs),
        fixed(2.0 * kr * (1.0 - kr) / kg * cs),
        fixed(2.0 * (1.0 - kb) * cs),
    )


def yuv420p_to_rgb(
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    oh: int = 0,
    ow: int = 0,
    matrix: str = "bt601",
    full_range: bool = False,
) -> np.ndarray:
    """Planes y [N,H,W], u/v [N,ceil(H/2),ceil(W/2)] -> RGB [N,oh,ow,3]: nearest chroma, then bilinear."""
    h, w = y.shape[1:]
    y_off, cy, crv, cgu, cgv, cbu = yuv_coeffs(matrix, full_range)
    up_u = u.astype(np.int64).repeat(2, axis=1).repeat(2, axis=2)[:, :h, :w] - 128
    up_v = v.astype(np.int64).repeat(2, axis=1).repeat(2, axis=2)[:, :h, :w] - 128
    yy = (y.astype(np.int64) - y_off) * cy + (1 << 15)
    rgb = np.stack([yy + crv * up_v, yy - cgu * up_u - cgv * up_v, yy + cbu * up_u], axis=-1)
    rgb = np.clip(rgb >> 16, 0, 255).astype(np.uint8)
    oh, ow = oh or h, ow or w
    return rgb if (oh, ow) == (h, w) else resize(rgb, oh, ow, "bilinear")


def normalize_to_chw(x: np.ndarray, oh: int, ow: int, mean: list[float], std: list[float]) -> np.ndarray:
    """uint8 [N,H,W,C] -> float32 [N,C,oh,ow] = (bilinear(x) / 255 - mean) / std, float32 bilinear."""
    y0, y1, fy = linear_coords(x.shape[1], oh)
    x0, x1, fx = linear_coords(x.shape[2], ow)
    src = x.astype(F32)
    rows = src[:, y0] * (F32(1) - fy)[None, :, None, None] + src[:, y1] * fy[None, :, None, None]
    val = rows[:, :, x0] * (F32(1) - fx)[None, None, :, None] + rows[:, :, x1] * fx[None, None, :, None]
    mean32, std32 = np.asarray(mean, F32), np.asarray(std, F32)
    out = val * (F32(1) / (F32(255) * std32)) + (-mean32 / std32)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))
