"""Fixtures for the ops tests: the host backends to compare, random frames, and the CUDA gate.

The ``needs_cuda`` marker itself is handled by tests/conftest.py (skip without a GPU, fail when
VIDFAST_FAIL_WITHOUT_CUDA=1). ``cuda_ops`` adds the second condition GPU tests here need: the
extension must have been built with its CUDA kernels.
"""

from __future__ import annotations

import numpy as np
import pytest

from vidfast import _native, envs

HOST_BACKENDS = ["reference"] + (["native"] if _native.HAS_NATIVE else [])


@pytest.fixture(params=HOST_BACKENDS)
def host_backend(request: pytest.FixtureRequest) -> str:
    """Each host backend built here ("reference", and "native" when vidfast._C imports)."""
    return request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def cuda_ops() -> None:
    """Skip (or fail, with VIDFAST_FAIL_WITHOUT_CUDA=1) unless the CUDA kernels and a GPU are present."""
    reason = None
    if not _native.HAS_CUDA_KERNELS:
        reason = f"vidfast._C has no CUDA kernels: {_native.build_info().get('reason')}"
    elif not _native.cuda_runtime_available():
        reason = "no CUDA device visible to torch"
    if reason and envs.flag("VIDFAST_FAIL_WITHOUT_CUDA"):
        pytest.fail(f"VIDFAST_FAIL_WITHOUT_CUDA=1 but {reason}")
    if reason:
        pytest.skip(reason)


def random_frames(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, 256, shape, dtype=np.uint8)


def structured_frames(n: int, h: int, w: int, c: int) -> np.ndarray:
    """Gradients, a checkerboard and hard edges: content where interpolation errors show."""
    yy, xx = np.mgrid[0:h, 0:w]
    planes = [(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), ((xx // 3 + yy // 3) % 2) * 255]
    base = np.stack(planes[:c], axis=-1).astype(np.uint8)
    return np.stack([np.roll(base, i * 5, axis=1) for i in range(n)])


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape, (a.shape, b.shape)
    return int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max()) if a.size else 0
