"""Cross-video search: FAISS against the numpy brute force, and the duplicate-pair rule."""

from __future__ import annotations

import numpy as np
import pytest

from vidfast.errors import ConfigError
from vidfast.grounding import cross_video_duplicates, knn
from vidfast.grounding import search as search_mod


def near_copies(rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Three videos of 40 random scenes each; video c re-uses 5 scenes of a and 3 of b, slightly jittered."""
    a, b = rng.normal(size=(40, 64)), rng.normal(size=(40, 64))
    c = rng.normal(size=(40, 64))
    c[:5] = a[10:15] + rng.normal(scale=0.01, size=(5, 64))
    c[5:8] = b[:3] + rng.normal(scale=0.01, size=(3, 64))
    return np.concatenate([a, b, c]).astype(np.float32), ["a"] * 40 + ["b"] * 40 + ["c"] * 40


def test_knn_faiss_matches_numpy(rng: np.random.Generator) -> None:
    pytest.importorskip("faiss")
    base, queries = rng.normal(size=(500, 32)), rng.normal(size=(60, 32))
    fs, fi = knn(base, queries, 7, backend="faiss")
    ns, ni = knn(base, queries, 7, backend="numpy")
    np.testing.assert_array_equal(fi, ni)
    np.testing.assert_allclose(fs, ns, atol=1e-5)
    assert fs.shape == (60, 7) and np.all(np.diff(fs, axis=1) <= 1e-6)


def test_knn_caps_k_and_handles_empty(rng: np.random.Generator) -> None:
    _, ids = knn(rng.normal(size=(3, 4)), rng.normal(size=(2, 4)), 10, backend="numpy")
    assert ids.shape == (2, 3) and sorted(ids[0].tolist()) == [0, 1, 2]
    _, ids = knn(rng.normal(size=(3, 4)), np.zeros((0, 4)), 2, backend="numpy")
    assert ids.shape == (0, 2)


@pytest.mark.parametrize("backend", ["numpy", "faiss"])
def test_cross_video_duplicates(rng: np.random.Generator, backend: str) -> None:
    if backend == "faiss":
        pytest.importorskip("faiss")
    emb, videos = near_copies(rng)
    pairs = cross_video_duplicates(emb, videos, threshold=0.95, backend=backend)
    assert [(p.i, p.j) for p in pairs] == [(10 + k, 80 + k) for k in range(5)] + [
        (40 + k, 85 + k) for k in range(3)
    ]
    assert all(p.similarity > 0.99 for p in pairs)
    # Same-video near-copies are not cross-video duplicates.
    assert cross_video_duplicates(emb, ["v"] * len(emb), threshold=0.95, backend=backend) == []


def test_numpy_fallback_when_faiss_is_missing(
    monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    monkeypatch.setattr(search_mod, "_faiss", lambda: None)
    emb, videos = near_copies(rng)
    assert len(cross_video_duplicates(emb, videos, backend="auto")) == 8
    with pytest.raises(Exception, match="faiss-cpu"):
        knn(emb, emb, 2, backend="faiss")
    with pytest.raises(ConfigError, match="numpy"):
        knn(emb, emb, 2, backend="annoy")
