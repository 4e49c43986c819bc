"""CUDA similarity kernels against the numpy oracle (run on a GPU machine; skipped elsewhere)."""

from __future__ import annotations

import numpy as np
import pytest
from grounding_helpers import clustered_sim

from vidfast import _native, envs
from vidfast.grounding import cosine_matrix, grounding_rows, kernels, merge_scenes, reference
from vidfast.grounding.reference import SpanParams

pytestmark = pytest.mark.needs_cuda


@pytest.fixture(autouse=True)
def cuda_kernels() -> None:
    """Also needs the extension's CUDA kernels (a GPU alone is not enough)."""
    if not _native.HAS_CUDA_KERNELS or not hasattr(_native._C, "span_scan_cuda"):
        if envs.flag("VIDFAST_FAIL_WITHOUT_CUDA"):
            pytest.fail("VIDFAST_FAIL_WITHOUT_CUDA=1 but vidfast._C has no similarity CUDA kernels")
        pytest.skip("vidfast._C was built without the similarity CUDA kernels")


def cuda(x: np.ndarray):  # torch.Tensor; torch is optional at import time
    import torch

    return torch.from_numpy(np.ascontiguousarray(x)).cuda()


def test_segment_mean_cuda(rng: np.random.Generator) -> None:
    x = rng.normal(size=(300, 768)).astype(np.float32)
    off = np.array([0, 3, 6, 7, 150, 300])
    got = kernels.segment_mean(cuda(x), off, backend="cuda").cpu().numpy()
    np.testing.assert_allclose(got, reference.segment_mean(x, off), rtol=1e-5, atol=1e-6)


def test_segment_max_pool_cuda_exact(rng: np.random.Generator) -> None:
    for n in (1, 7, 300):
        sim = clustered_sim(rng, n)
        sim[rng.random((n, n)) < 0.01] = np.nan
        off = np.unique(np.concatenate(([0, n], rng.integers(1, n, n // 3) if n > 1 else [])))
        got = kernels.segment_max_pool(cuda(sim), off, backend="cuda").cpu().numpy()
        np.testing.assert_array_equal(got, reference.segment_max_pool(sim, off))


@pytest.mark.parametrize("union", [False, True])
def test_merge_scan_batch_cuda_exact(rng: np.random.Generator, union: bool) -> None:
    sims = [clustered_sim(rng, int(n)) for n in rng.integers(1, 200, 17)]
    got = kernels.merge_scan_batch([cuda(s) for s in sims], 0.85, union)
    for g, s in zip(got, sims):
        np.testing.assert_array_equal(g, reference.merge_scan(s, 0.85, union))


def test_span_scan_cuda_exact(rng: np.random.Generator) -> None:
    n = 257
    sim = clustered_sim(rng, n)
    starts = np.cumsum(rng.choice([0.5, 1.0, 2.0], n)) + rng.choice([0.0, 0.3], n)
    ends = starts + 0.5
    pick = rng.integers(0, n, (400, 2))
    cs = starts[pick.min(1)] + rng.choice([0.0, -0.2, 0.3, -3.0], 400)
    ce = ends[pick.max(1)] + rng.choice([0.0, 0.2, -0.3, 5.0], 400)
    params = SpanParams(max_secs=30.0)
    got = kernels.span_scan(cuda(sim), starts, ends, cs, ce, params, 1e4, backend="cuda")
    want = reference.span_scan(sim, starts, ends, cs, ce, params, 1e4)
    np.testing.assert_array_equal(got.status, want.status)
    np.testing.assert_array_equal(got.scenes, want.scenes)
    np.testing.assert_array_equal(got.secs, want.secs)


def test_gpu_chain_matches_host(rng: np.random.Generator) -> None:
    emb = rng.normal(size=(120, 64)).astype(np.float32)
    host = cosine_matrix(emb)
    dev = cosine_matrix(cuda(emb))
    np.testing.assert_allclose(dev.cpu().numpy(), host, atol=1e-5)
    scenes = [[float(i), float(i + 1)] for i in range(120)]
    merged = merge_scenes(dev, scenes, backend="cuda")
    want = merge_scenes(dev.cpu().numpy(), scenes, backend="reference")
    assert merged.spans == want.spans
    segs = [{"start_sec": s, "end_sec": e, "captions": ["c"]} for s, e in merged.scenes]
    rows, _ = grounding_rows("v.mp4", 130.0, merged.scenes, merged.similarity, segs, backend="cuda")
    ref, _ = grounding_rows("v.mp4", 130.0, merged.scenes, want.similarity, segs, backend="reference")
    assert rows == ref
