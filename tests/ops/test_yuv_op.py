"""yuv420p_to_rgb: PyAV plane layout, agreement with FFmpeg's swscale and cv2, fused resize."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import max_abs_diff, random_frames

from vidfast import ops

av = pytest.importorskip("av")

# FFmpeg's swscale (default flags) uses lower-precision tables: stated tolerance against it.
SWSCALE_MAX_DIFF, SWSCALE_MEAN_DIFF = 3, 1.0


def yuv_frame(rng: np.random.Generator, h: int, w: int, full_range: bool) -> np.ndarray:
    """A PyAV-layout packed yuv420p array with a luma ramp plus noise and random in-range chroma."""
    lo, hi = (0, 255) if full_range else (16, 235)
    ramp = lo + (np.arange(w) * (hi - lo) // max(w - 1, 1))
    y = np.clip(ramp[None, :] + rng.integers(-12, 12, (h, w)), lo, hi).astype(np.uint8)
    chroma = rng.integers(lo, 240 if not full_range else 256, (2, h // 2, w // 2)).astype(np.uint8)
    return np.concatenate([y.reshape(-1), chroma.reshape(-1)]).reshape(-1, w)


def test_split_matches_pyav_planes(rng):
    packed = yuv_frame(rng, 36, 64, False)
    frame = av.VideoFrame.from_ndarray(packed, format="yuv420p")
    y, u, v = ops.split_yuv420p(frame.to_ndarray(format="yuv420p"))
    assert y.shape == (36, 64) and u.shape == v.shape == (18, 32)
    for plane, arr in zip(frame.planes, (y, u, v), strict=True):
        raw = np.frombuffer(bytes(plane), np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
        assert np.array_equal(raw, arr)


@pytest.mark.parametrize(("colorspace", "matrix"), [("ITU601", "bt601"), ("ITU709", "bt709")])
@pytest.mark.parametrize(("color_range", "full_range"), [("MPEG", False), ("JPEG", True)])
def test_close_to_swscale(rng, host_backend, colorspace, matrix, color_range, full_range):
    packed = yuv_frame(rng, 72, 128, full_range)
    frame = av.VideoFrame.from_ndarray(packed, format="yuv420p")
    expected = frame.reformat(
        format="rgb24", src_colorspace=colorspace, src_color_range=color_range
    ).to_ndarray()
    out = ops.yuv420p_to_rgb(
        *ops.split_yuv420p(packed), matrix=matrix, full_range=full_range, backend=host_backend
    )
    diff = np.abs(out.astype(int) - expected)
    assert diff.max() <= SWSCALE_MAX_DIFF and diff.mean() < SWSCALE_MEAN_DIFF


def test_matches_cv2_i420(rng, host_backend):
    cv2 = pytest.importorskip("cv2")
    packed = yuv_frame(rng, 36, 64, False)
    expected = cv2.cvtColor(packed, cv2.COLOR_YUV2RGB_I420)
    assert max_abs_diff(ops.yuv420p_to_rgb(*ops.split_yuv420p(packed), backend=host_backend), expected) <= 1


@pytest.mark.parametrize(("h", "w"), [(36, 64), (37, 53), (1, 1), (2, 3)])
@pytest.mark.parametrize("size", [None, (17, 23), (80, 90)])
@pytest.mark.parametrize("matrix", ["bt601", "bt709"])
def test_native_equals_reference_and_fused_resize(rng, host_backend, h, w, size, matrix):
    y = random_frames(rng, (2, h, w))
    u, v = (
        random_frames(rng, (2, (h + 1) // 2, (w + 1) // 2)),
        random_frames(rng, (2, (h + 1) // 2, (w + 1) // 2)),
    )
    out = ops.yuv420p_to_rgb(y, u, v, size, matrix, backend=host_backend)
    full = ops.yuv420p_to_rgb(y, u, v, None, matrix, backend="reference")
    expected = full if size is None else ops.resize(full, size, backend="reference")
    assert np.array_equal(out, expected)


def test_single_frame_and_bad_planes(rng):
    y, u, v = random_frames(rng, (8, 8)), random_frames(rng, (4, 4)), random_frames(rng, (4, 4))
    assert ops.yuv420p_to_rgb(y, u, v).shape == (8, 8, 3)
    with pytest.raises(ValueError, match="u and v must be"):
        ops.yuv420p_to_rgb(y, u[:3], v)
    with pytest.raises(ValueError, match="matrix"):
        ops.yuv420p_to_rgb(y, u, v, matrix="bt2020")
    with pytest.raises(ValueError, match="even"):
        ops.split_yuv420p(np.zeros((9, 7), np.uint8))
