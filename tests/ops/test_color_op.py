"""convert_color: equals cv2.cvtColor exactly (every 24-bit colour for HSV and gray)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_frames

from vidfast import _native, ops

cv2 = pytest.importorskip("cv2")
CV_CODES = {
    "rgb2bgr": cv2.COLOR_RGB2BGR,
    "bgr2rgb": cv2.COLOR_BGR2RGB,
    "rgb2gray": cv2.COLOR_RGB2GRAY,
    "bgr2gray": cv2.COLOR_BGR2GRAY,
    "rgb2hsv": cv2.COLOR_RGB2HSV,
    "bgr2hsv": cv2.COLOR_BGR2HSV,
}


@pytest.fixture(scope="module")
def all_colours() -> np.ndarray:
    """Every 24-bit colour once, as a [1, 4096, 4096, 3] frame."""
    c = np.arange(1 << 24, dtype=np.uint32)
    return np.stack([c >> 16, (c >> 8) & 255, c & 255], axis=-1).astype(np.uint8).reshape(1, 4096, 4096, 3)


def cv_convert(x: np.ndarray, code: str) -> np.ndarray:
    out = np.stack([cv2.cvtColor(f, CV_CODES[code]) for f in x])
    return out.reshape(*x.shape[:3], -1)


@pytest.mark.skipif(
    not _native.HAS_NATIVE, reason="vidfast._C not built (the reference is checked on a sample)"
)
@pytest.mark.parametrize("code", ["rgb2hsv", "bgr2hsv", "rgb2gray"])
def test_every_colour_exact_native(all_colours, code):
    out = ops.convert_color(all_colours, code, backend="native")
    assert np.array_equal(out, cv_convert(all_colours, code))


@pytest.mark.parametrize("code", ops.COLOR_CODES)
@pytest.mark.parametrize("shape", [(2, 17, 31, 3), (1, 1, 1, 3), (9, 5, 3)])
def test_matches_cv2(rng, host_backend, code, shape):
    x = random_frames(rng, shape)
    batch = x if x.ndim == 4 else x[None]
    out = ops.convert_color(x, code, backend=host_backend)
    expected = cv_convert(batch, code)
    assert np.array_equal(out, expected if x.ndim == 4 else expected[0])


def test_reference_hsv_exact_on_sample(rng, all_colours):
    sample = all_colours[:, ::16]  # a 1/16 slice keeps the numpy oracle quick
    assert np.array_equal(
        ops.convert_color(sample, "rgb2hsv", backend="reference"), cv_convert(sample, "rgb2hsv")
    )


def test_bad_code_and_channels():
    with pytest.raises(ValueError, match="valid"):
        ops.convert_color(np.zeros((2, 2, 3), np.uint8), "rgb2lab")
    with pytest.raises(ValueError, match="channels"):
        ops.convert_color(np.zeros((2, 2, 1), np.uint8), "rgb2hsv")
