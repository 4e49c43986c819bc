"""normalize_to_chw: float32 NCHW, native == reference, close to cv2 resize + normalise."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_frames

from vidfast import ops

CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


@pytest.mark.parametrize(
    ("src", "dst"), [((72, 128), (24, 24)), ((37, 53), (20, 31)), ((10, 10), (33, 27)), ((1, 1), (2, 2))]
)
@pytest.mark.parametrize("channels", [1, 3])
def test_native_equals_reference(rng, host_backend, src, dst, channels):
    x = random_frames(rng, (2, *src, channels))
    mean, std = CLIP_MEAN[:channels], CLIP_STD[:channels]
    out = ops.normalize_to_chw(x, dst, mean, std, backend=host_backend)
    assert out.shape == (2, channels, *dst) and out.dtype == np.float32
    ref = ops.normalize_to_chw(x, dst, mean, std, backend="reference")
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-5)


def test_close_to_cv2_resize_then_normalise(rng):
    cv2 = pytest.importorskip("cv2")
    x = random_frames(rng, (2, 72, 128, 3))
    out = ops.normalize_to_chw(x, (36, 50), CLIP_MEAN, CLIP_STD)
    resized = np.stack([cv2.resize(f, (50, 36), interpolation=cv2.INTER_LINEAR) for f in x]).astype(
        np.float32
    )
    expected = ((resized / 255 - np.float32(CLIP_MEAN)) / np.float32(CLIP_STD)).transpose(0, 3, 1, 2)
    # cv2 rounds the resized pixel to uint8: at most 1 LSB (plus fixed-point weights) apart.
    np.testing.assert_allclose(out, expected, rtol=0, atol=1.01 / 255 / min(CLIP_STD))


def test_identity_size_is_plain_normalisation(rng, host_backend):
    x = random_frames(rng, (9, 7, 3))
    out = ops.normalize_to_chw(x, (9, 7), 0.5, 0.5, backend=host_backend)
    np.testing.assert_allclose(out, (x.transpose(2, 0, 1) / 255 - 0.5) / 0.5, atol=1e-5)


def test_bad_mean_std():
    x = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="one per channel"):
        ops.normalize_to_chw(x, (2, 2), (0.5, 0.5), 0.5)
    with pytest.raises(ValueError, match="> 0"):
        ops.normalize_to_chw(x, (2, 2), 0.5, (1.0, 0.0, 1.0))
