"""resize: native == reference bit for bit, and both within one LSB of cv2.resize."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import max_abs_diff, random_frames, structured_frames

from vidfast import ops

cv2 = pytest.importorskip("cv2")
CV_INTERP = {"bilinear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA}

SIZES = [  # (src h, w) -> (dst h, w): down/up, integer and non-integer factors, odd and 1-px sizes
    ((36, 64), (18, 32)),
    ((36, 64), (12, 16)),
    ((37, 53), (20, 31)),
    ((31, 17), (9, 7)),
    ((10, 10), (33, 27)),
    ((20, 30), (50, 10)),
    ((1, 1), (3, 5)),
    ((7, 9), (1, 1)),
    ((1, 13), (4, 4)),
    ((50, 80), (50, 40)),
    ((23, 41), (23, 41)),
]


def cv_resize(x: np.ndarray, size: tuple[int, int], interpolation: str) -> np.ndarray:
    oh, ow = size
    out = [cv2.resize(f, (ow, oh), interpolation=CV_INTERP[interpolation]) for f in x]
    return np.stack(out).reshape(x.shape[0], oh, ow, x.shape[3])


@pytest.mark.parametrize("interpolation", ["bilinear", "area"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(("src", "dst"), SIZES)
def test_matches_cv2_and_reference(rng, host_backend, interpolation, channels, src, dst):
    for x in (random_frames(rng, (2, *src, channels)), structured_frames(2, *src, channels)):
        out = ops.resize(x, dst, interpolation, backend=host_backend)
        assert out.shape == (2, *dst, channels) and out.dtype == np.uint8
        assert max_abs_diff(out, cv_resize(x, dst, interpolation)) <= 1
        assert max_abs_diff(out, ops.resize(x, dst, interpolation, backend="reference")) == 0


def test_single_frame_keeps_rank(rng, host_backend):
    x = random_frames(rng, (40, 30, 3))
    out = ops.resize(x, (20, 15), backend=host_backend)
    assert out.shape == (20, 15, 3)
    assert np.array_equal(out, ops.resize(x[None], (20, 15), backend=host_backend)[0])


def test_realistic_downscale_mostly_exact(rng):
    x = random_frames(rng, (2, 360, 640, 3))
    out = ops.resize(x, (144, 256))
    ref = cv_resize(x, (144, 256), "bilinear")
    assert max_abs_diff(out, ref) <= 1 and (out != ref).mean() < 0.2


def test_non_contiguous_input_is_accepted(rng, host_backend):
    x = random_frames(rng, (2, 30, 40, 3))[:, :, ::2]
    assert not x.flags.c_contiguous
    out = ops.resize(x, (15, 10), backend=host_backend)
    assert np.array_equal(out, ops.resize(np.ascontiguousarray(x), (15, 10), backend="reference"))


@pytest.mark.parametrize(
    ("frames", "size", "message"),
    [
        (np.zeros((4, 4, 3), np.float32), (2, 2), "uint8"),
        (np.zeros((4, 4), np.uint8), (2, 2), "dims"),
        (np.zeros((1, 1, 4, 4, 3), np.uint8), (2, 2), "dims"),
        (np.zeros((4, 4, 2), np.uint8), (2, 2), "channels"),
        (np.zeros((4, 4, 3), np.uint8), (0, 2), "positive"),
        (np.zeros((4, 4, 3), np.uint8), 5, "height, width"),
    ],
)
def test_bad_input_errors(host_backend, frames, size, message):
    with pytest.raises(ValueError, match=message):
        ops.resize(frames, size, backend=host_backend)


def test_bad_interpolation():
    with pytest.raises(ValueError, match="interpolation"):
        ops.resize(np.zeros((4, 4, 3), np.uint8), (2, 2), "cubic")


def test_arrays_that_went_through_pickle_are_accepted(rng, host_backend):
    """Arrays from another process (pickle, Ray's object store) carry an equal but distinct dtype object."""
    import pickle

    x = random_frames(rng, (2, 30, 40, 3))
    y = pickle.loads(pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL))
    assert y.dtype == x.dtype and y.dtype is not x.dtype
    assert np.array_equal(ops.resize(y, (15, 10), backend=host_backend), ops.resize(x, (15, 10), backend="reference"))
