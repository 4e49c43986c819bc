"""Native CPU kernels against the numpy oracle on random inputs (exact for scans and maxima)."""

from __future__ import annotations

import numpy as np
import pytest
from grounding_helpers import HOST_BACKENDS, clustered_sim

from vidfast import _native
from vidfast.errors import BackendUnavailable, ConfigError
from vidfast.grounding import kernels, reference
from vidfast.grounding.reference import SpanParams

pytestmark = pytest.mark.skipif("native" not in HOST_BACKENDS, reason="vidfast._C without similarity kernels")

DTYPES = [np.float32, np.float64]


def random_offsets(rng: np.random.Generator, total: int) -> np.ndarray:
    cuts = np.sort(rng.choice(np.arange(1, total), size=rng.integers(0, total), replace=False))
    return np.concatenate(([0], cuts, [total])).astype(np.int64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_segment_mean(rng: np.random.Generator, dtype: type) -> None:
    for _ in range(10):
        x = rng.normal(size=(int(rng.integers(1, 60)), int(rng.integers(1, 70)))).astype(dtype)
        off = random_offsets(rng, len(x))
        got = kernels.segment_mean(x, off, backend="native")
        assert got.dtype == dtype
        np.testing.assert_allclose(got, reference.segment_mean(x, off), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_segment_max_pool_exact_with_nan(rng: np.random.Generator, dtype: type) -> None:
    for _ in range(10):
        n = int(rng.integers(1, 50))
        sim = clustered_sim(rng, n, dtype)
        sim[rng.random((n, n)) < 0.02] = np.nan
        off = random_offsets(rng, n)
        got = kernels.segment_max_pool(sim, off, backend="native")
        np.testing.assert_array_equal(got, reference.segment_max_pool(sim, off))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("union", [False, True])
def test_merge_scan_exact(rng: np.random.Generator, dtype: type, union: bool) -> None:
    for _ in range(20):
        sim = clustered_sim(rng, int(rng.integers(0, 60)), dtype)
        for thr in (0.85, 0.5, float(sim.flat[1]) if sim.size > 1 else 0.3):  # incl. a value in the matrix
            got = kernels.merge_scan(sim, thr, union, backend="native")
            np.testing.assert_array_equal(got, reference.merge_scan(sim, thr, union))


def random_scenes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    lengths = rng.choice([0.3, 0.5, 1.0, 2.0, 4.0], n)
    gaps = rng.choice([0.0, 0.0, 0.2, 1.0], n)
    starts = np.cumsum(gaps + np.concatenate(([0.0], lengths[:-1])))
    return starts, starts + lengths


@pytest.mark.parametrize("dtype", DTYPES)
def test_span_scan_exact(rng: np.random.Generator, dtype: type) -> None:
    for _ in range(15):
        n = int(rng.integers(1, 40))
        sim = clustered_sim(rng, n, dtype)
        sim[rng.random((n, n)) < 0.01] = np.nan
        starts, ends = random_scenes(rng, n)
        pick = rng.integers(0, n, (50, 2))
        cs = starts[pick.min(1)] + rng.choice([0.0, 0.0, -0.2, 0.3, -3.0], 50)
        ce = ends[pick.max(1)] + rng.choice([0.0, 0.0, 0.2, -0.3, 5.0], 50)
        params = SpanParams(same_threshold=float(rng.choice([0.8, 0.6])))
        got = kernels.span_scan(sim, starts, ends, cs, ce, params, float(ends[-1]) + 1, backend="native")
        want = reference.span_scan(sim, starts, ends, cs, ce, params, float(ends[-1]) + 1)
        np.testing.assert_array_equal(got.status, want.status)
        np.testing.assert_array_equal(got.scenes, want.scenes)
        np.testing.assert_array_equal(got.secs, want.secs)


def test_native_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="offsets"):
        kernels.segment_max_pool(np.eye(3, dtype=np.float32), [0, 2], backend="native")
    with pytest.raises(ValueError, match="square"):
        kernels.merge_scan(np.zeros((2, 3), np.float32), 0.85, False, backend="native")
    with pytest.raises(ConfigError, match="backend"):
        kernels.merge_scan(np.eye(2), 0.85, False, backend="gpu")
    with pytest.raises(BackendUnavailable, match="cuda"):
        kernels.merge_scan(np.eye(2), 0.85, False, backend="cuda")


@pytest.mark.skipif(not _native.HAS_CUDA_KERNELS, reason="built without CUDA kernels")
def test_cuda_entry_points_check_arguments_before_launching() -> None:
    """Runs without a GPU: the checks fire before any CUDA call."""
    c = _native._C
    with pytest.raises(ValueError, match="null device pointer"):
        c.segment_mean_cuda(0, 1, 1, 3, 4, 1)
    with pytest.raises(ValueError, match="spans must be >= 1"):
        c.segment_max_pool_cuda(1, 1, 1, 1, 4, 0)
    with pytest.raises(ValueError, match="batch must be >= 1"):
        c.merge_scan_cuda(1, 1, 1, 1, 0, 4, 0.85, False)
    with pytest.raises(ValueError, match="captions must be >= 1"):
        c.span_scan_cuda(1, 1, 1, 1, 1, 1, 1, 1, 4, 0, 0.25, 0.8, 0.5, 10.0, 12.0)
