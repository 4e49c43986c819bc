"""Backends and random inputs shared by the grounding tests."""

from __future__ import annotations

import numpy as np

from vidfast import _native

# "native" only when vidfast._C imports and was built with the similarity kernels.
HOST_BACKENDS = ["reference"] + (
    ["native"] if _native.HAS_NATIVE and hasattr(_native._C, "span_scan") else []
)


def clustered_sim(rng: np.random.Generator, n: int, dtype: type = np.float32) -> np.ndarray:
    """A cosine matrix of ``n`` scenes drawn from a few clusters, so thresholds near 0.8 bite."""
    centers = rng.normal(size=(4, 16))
    emb = centers[rng.integers(0, 4, n)] + rng.normal(scale=0.6, size=(n, 16))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return (emb @ emb.T).astype(dtype)
