"""Score kernels (native CPU, CUDA) against the numpy/OpenCV reference, and the fused frame kernel
against FFmpeg BGR24 + cv2.resize."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from vidfast import _native
from vidfast.scenes.convert import SmallBgrConverter, reference_small_bgr
from vidfast.scenes.score_native import NativeScoreBackend, content_sums_cuda
from vidfast.scenes.score_reference import ReferenceScoreBackend, detect_edges

needs_native = pytest.mark.skipif(
    not (_native.HAS_NATIVE and hasattr(_native._C, "content_scores")), reason="vidfast._C scenes kernels not built"
)


def _frames(rng: np.random.Generator, n: int = 6, h: int = 37, w: int = 53) -> np.ndarray:
    """Random frames with flat patches, so medians, saturation extremes and edges all occur."""
    frames = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    frames[:, : h // 3] = rng.integers(0, 256, (n, 1, 1, 3), dtype=np.uint8)
    if n > 2:
        frames[1, :, : w // 2] = 0
        frames[2] = frames[2, :, :, :1]  # grey frame: hue and saturation 0
    return np.ascontiguousarray(frames)


@needs_native
@pytest.mark.parametrize("with_edges", [False, True])
@pytest.mark.parametrize("kernel_size", [0, 3, 7])
def test_native_scores_equal_reference(with_edges: bool, kernel_size: int) -> None:
    rng = np.random.default_rng(7)
    frames = _frames(rng)
    prev = _frames(rng, n=1)[0]
    for p in (None, prev):
        ours = NativeScoreBackend().scores(frames, p, with_edges, kernel_size)
        ref = ReferenceScoreBackend().scores(frames, p, with_edges, kernel_size)
        np.testing.assert_array_equal(ours, ref)


@needs_native
def test_native_hsv_covers_every_colour() -> None:
    """All 2^24 BGR values: the native HSV sums equal OpenCV's plane by plane (|x - 0| = x)."""
    values = np.arange(1 << 24, dtype=np.uint32)
    img = np.stack([(values >> 16) & 255, (values >> 8) & 255, values & 255], -1).astype(np.uint8)
    img = img.reshape(1, 4096, 4096, 3)
    for h0, h1 in ((0, 2048), (2048, 4096)):  # in halves to keep memory small
        part = np.ascontiguousarray(img[:, h0:h1])
        zero = np.zeros_like(part[0])
        ours = NativeScoreBackend().scores(part, zero, False, 0)
        ref = ReferenceScoreBackend().scores(part, zero, False, 0)
        np.testing.assert_array_equal(ours, ref)


@needs_native
def test_native_edges_equal_opencv_on_real_frames(bikes_mp4: Path) -> None:
    lum = []
    with av.open(str(bikes_mp4)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i % 25 == 0:
                lum.append(cv2.cvtColor(frame.to_ndarray(format="bgr24"), cv2.COLOR_BGR2HSV)[..., 2])
    lum = np.ascontiguousarray(np.stack(lum))
    ours = _native._C.scene_edges(lum, 0)
    for i, plane in enumerate(lum):
        np.testing.assert_array_equal(ours[i], detect_edges(plane))


def _yuv_frames(path: Path, limit: int = 40) -> list[av.VideoFrame]:
    with av.open(str(path)) as c:
        return [f for _, f in zip(range(limit), c.decode(video=0))]


@needs_native
def test_fused_conversion_equals_ffmpeg_opencv(bikes_mp4: Path, synth_vp9, synth_mjpeg) -> None:  # noqa: ANN001
    """Bit-exact on real H.264, VP9 and (full-range, so reference fallback) MJPEG frames."""
    for path, size in ((bikes_mp4, (109, 256)), (synth_vp9.path, (90, 160)), (synth_mjpeg.path, (90, 160))):
        conv = SmallBgrConverter()
        for frame in _yuv_frames(path):
            out, ref = np.empty((*size, 3), np.uint8), np.empty((*size, 3), np.uint8)
            conv(frame, out)
            reference_small_bgr(frame, ref)
            np.testing.assert_array_equal(out, ref)
    assert conv.fused or conv.fallback_reason  # MJPEG is yuvj (full range): reported, not guessed


@pytest.mark.needs_cuda
def test_cuda_sums_equal_native() -> None:
    torch = pytest.importorskip("torch")
    if not _native.HAS_CUDA_KERNELS:
        pytest.skip("vidfast._C built without CUDA kernels")
    rng = np.random.default_rng(3)
    frames, prev = _frames(rng, n=9, h=144, w=256), _frames(rng, n=1, h=144, w=256)[0]
    ref = NativeScoreBackend().scores(frames, prev, False, 0)[:, :3]
    for p in (None, prev):
        sums = content_sums_cuda(torch.from_numpy(frames).cuda(), None if p is None else torch.from_numpy(p).cuda())
        got = sums.cpu().numpy().astype(np.float64) / (144 * 256)
        expected = ref if p is not None else np.vstack([np.zeros((1, 3)), ref[1:]])
        np.testing.assert_array_equal(got, expected)


# --- the AVX2 kernels (picked at run time) against the portable path and FFmpeg + OpenCV ---

_BT601 = (104597, 132201, 25675, 53279)
_BT709 = (117489, 138438, 13975, 34925)


def _has_simd() -> bool:
    c = _native._C
    if not hasattr(c, "_scenes_set_simd"):
        return False
    prev = c._scenes_set_simd(True)
    on = c._scenes_set_simd(prev)
    return on


needs_simd = pytest.mark.skipif(
    not (_native.HAS_NATIVE and _has_simd()), reason="vidfast._C built without the AVX2 scenes kernels or no AVX2 CPU"
)


def _simd_and_portable(fn):
    c = _native._C
    prev = c._scenes_set_simd(True)
    try:
        fast = fn()
        c._scenes_set_simd(False)
        slow = fn()
    finally:
        c._scenes_set_simd(prev)
    return fast, slow


def _yuv_planes(rng: np.random.Generator, w: int, h: int, pad: int, smooth: bool) -> list[np.ndarray]:
    """y [h, w + pad], u/v [ceil(h/2), ceil(w/2) + pad]: the row strides FFmpeg's line sizes give."""
    out = []
    for rows, cols in ((h, w), ((h + 1) // 2, (w + 1) // 2), ((h + 1) // 2, (w + 1) // 2)):
        if smooth:
            yy, xx = np.mgrid[0:rows, 0 : cols + pad]
            plane = ((xx * 7 + yy * 3) % 256).astype(np.uint8)
        else:
            plane = rng.integers(0, 256, (rows, cols + pad), dtype=np.uint8)
        out.append(plane)
    return out


# (w, h, ow, oh): auto downscale, exact halves (2x2 area), odd and tiny widths (portable fallback
# below 8), outputs not a multiple of 8/16, upscaling. The AVX2 kernel reads each group of output
# columns' taps from one window: 4 columns per 16 bytes (640, 854, 512, ...), 2 per 8 bytes
# (1280 -> 256, 17, 16 wide) or 1 per 4 bytes (1920 -> 256, 9 and 10 wide).
_CONV_CASES = [
    (640, 360, 256, 144), (640, 272, 256, 109), (1280, 720, 256, 144), (1920, 1080, 256, 144),
    (3840, 2160, 256, 144), (854, 480, 256, 144), (600, 1000, 154, 256), (512, 288, 256, 144),
    (513, 289, 256, 144), (62, 34, 31, 17), (641, 361, 256, 144), (641, 361, 320, 180), (33, 17, 11, 5),
    (31, 21, 31, 21), (17, 11, 8, 5), (16, 16, 7, 9), (9, 7, 4, 3), (8, 8, 3, 3), (7, 5, 3, 2), (1, 1, 1, 1),
    (100, 50, 200, 100), (255, 143, 254, 142), (257, 145, 129, 73), (720, 480, 240, 160), (16, 16, 8, 8),
    (10, 6, 5, 3),
]


@needs_simd
@pytest.mark.parametrize("w,h,ow,oh", _CONV_CASES)
def test_fused_conversion_simd_equals_portable(w: int, h: int, ow: int, oh: int) -> None:
    rng = np.random.default_rng(w * 7919 + h)
    for pad, smooth, coeffs in ((0, False, _BT601), (32, True, _BT709), (3, False, _BT709)):
        y, u, v = _yuv_planes(rng, w, h, pad, smooth)
        fast, slow = _simd_and_portable(
            lambda: _call_small_bgr(y, u, v, w, h, ow, oh, coeffs)  # noqa: B023
        )
        np.testing.assert_array_equal(fast, slow, err_msg=f"{w}x{h} -> {ow}x{oh} pad={pad}")


def _call_small_bgr(y, u, v, w, h, ow, oh, coeffs) -> np.ndarray:
    out = np.empty((oh, ow, 3), np.uint8)
    _native._C.yuv420p_small_bgr(y, u, v, w, h, out, coeffs)
    return out


@needs_native
@pytest.mark.parametrize("w,h,oh,ow", [(640, 360, 144, 256), (512, 288, 144, 256), (1280, 720, 144, 256),
                                       (1920, 1080, 144, 256), (96, 64, 37, 53)])
def test_fused_conversion_equals_ffmpeg_opencv_synthetic(w: int, h: int, oh: int, ow: int) -> None:
    """Noise frames (every clip and rounding case) through FFmpeg bgr24 + cv2.resize."""
    rng = np.random.default_rng(w + h)
    for smooth in (False, True):
        y, u, v = _yuv_planes(rng, w, h, 0, smooth)
        frame = av.VideoFrame.from_ndarray(np.concatenate([y, u.reshape(-1, w), v.reshape(-1, w)]), format="yuv420p")
        ref = np.empty((oh, ow, 3), np.uint8)
        reference_small_bgr(frame, ref)
        np.testing.assert_array_equal(_call_small_bgr(y, u, v, w, h, ow, oh, _BT601), ref)


@needs_simd
@pytest.mark.parametrize("h,w", [(144, 256), (109, 256), (37, 53), (1, 1), (2, 31), (3, 32), (5, 33), (9, 65)])
@pytest.mark.parametrize("n", [0, 1, 5])
def test_native_scores_simd_equals_portable_and_reference(h: int, w: int, n: int) -> None:
    rng = np.random.default_rng(h * w + n)
    frames = _frames(rng, n=n, h=h, w=w) if n else np.zeros((0, h, w, 3), np.uint8)
    prev = _frames(rng, n=1, h=h, w=w)[0]
    for p in (None, prev):
        fast, slow = _simd_and_portable(lambda: NativeScoreBackend().scores(frames, p, False, 0))  # noqa: B023
        ref = ReferenceScoreBackend().scores(frames, p, False, 0)
        np.testing.assert_array_equal(fast, ref)
        np.testing.assert_array_equal(slow, ref)


@needs_simd
def test_native_hsv_covers_every_colour_portable_path() -> None:
    """The 2^24-colour check of test_native_hsv_covers_every_colour on the non-AVX2 path."""
    c = _native._C
    prev = c._scenes_set_simd(False)
    try:
        test_native_hsv_covers_every_colour()
    finally:
        c._scenes_set_simd(prev)


@needs_native
def test_native_scores_large_batch_split_across_threads() -> None:
    """Batches over the parallel threshold are scored in per-thread runs of frames; same numbers."""
    rng = np.random.default_rng(11)
    frames = rng.integers(0, 256, (40, 480, 448, 3), dtype=np.uint8)  # 40 * 480 * 448 > 2^23 pixels
    frames[5:9] = frames[4]  # zero deltas across a run boundary
    prev = rng.integers(0, 256, (480, 448, 3), dtype=np.uint8)
    ours = NativeScoreBackend().scores(frames, prev, False, 0)
    ref = ReferenceScoreBackend().scores(frames, prev, False, 0)
    np.testing.assert_array_equal(ours, ref)
