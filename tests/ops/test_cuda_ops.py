"""CUDA kernels against the reference (run on a GPU machine; skipped elsewhere)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_frames

from vidfast import ops

pytestmark = [pytest.mark.needs_cuda, pytest.mark.usefixtures("cuda_ops")]


def _cuda(x: np.ndarray):
    import torch

    return torch.from_numpy(x).cuda()


@pytest.mark.parametrize("interpolation", ["bilinear", "area"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(
    ("src", "dst"),
    [
        ((36, 64), (18, 32)),
        ((37, 53), (20, 31)),
        ((10, 10), (33, 27)),
        ((360, 640), (144, 256)),
        ((1, 1), (3, 5)),
    ],
)
def test_resize(rng, interpolation, channels, src, dst):
    x = random_frames(rng, (3, *src, channels))
    out = ops.resize(_cuda(x), dst, interpolation, backend="cuda")
    assert out.is_cuda
    ref = ops.resize(x, dst, interpolation, backend="reference")
    tol = 1 if interpolation == "area" else 0  # float summation order may differ for area
    assert np.abs(out.cpu().numpy().astype(int) - ref).max() <= tol


@pytest.mark.parametrize("code", ops.COLOR_CODES)
def test_convert_color(rng, code):
    x = random_frames(rng, (2, 33, 47, 3))
    out = ops.convert_color(_cuda(x), code, backend="cuda")
    assert np.array_equal(out.cpu().numpy(), ops.convert_color(x, code, backend="reference"))


@pytest.mark.parametrize("size", [None, (17, 23), (144, 256)])
@pytest.mark.parametrize(("matrix", "full_range"), [("bt601", False), ("bt709", True)])
def test_yuv420p_to_rgb(rng, size, matrix, full_range):
    h, w = 37, 66
    y = random_frames(rng, (2, h, w))
    u, v = random_frames(rng, (2, 19, 33)), random_frames(rng, (2, 19, 33))
    out = ops.yuv420p_to_rgb(_cuda(y), _cuda(u), _cuda(v), size, matrix, full_range, backend="cuda")
    ref = ops.yuv420p_to_rgb(y, u, v, size, matrix, full_range, backend="reference")
    assert np.array_equal(out.cpu().numpy(), ref)


@pytest.mark.parametrize("channels", [1, 3])
def test_normalize_to_chw(rng, channels):
    x = random_frames(rng, (2, 72, 128, channels))
    mean, std = [0.48, 0.45, 0.40][:channels], [0.26, 0.26, 0.27][:channels]
    out = ops.normalize_to_chw(_cuda(x), (24, 40), mean, std, backend="cuda")
    ref = ops.normalize_to_chw(x, (24, 40), mean, std, backend="reference")
    np.testing.assert_allclose(out.cpu().numpy(), ref, rtol=0, atol=1e-5)
