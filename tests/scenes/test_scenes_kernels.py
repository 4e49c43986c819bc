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
