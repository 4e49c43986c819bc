"""Cross-video nearest-neighbour search over scene embeddings (duplicate scenes across videos).

Vectors are L2-normalised (float32) so inner product = cosine. Backends: ``faiss`` - an exact
``IndexFlatIP``, moved to the GPU (``faiss.GpuIndexFlatIP``) when faiss has GPU support and a GPU
is visible; ``numpy`` - chunked brute force, the fallback when faiss is not installed and the
oracle of the tests. Both return the same neighbours (up to ties and float32 rounding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vidfast.errors import BackendUnavailable, ConfigError
from vidfast.grounding.similarity import l2_normalize

SEARCH_BACKENDS = ("auto", "faiss", "numpy")
_CHUNK = 4096  # query rows per numpy GEMM, bounds the [chunk, N] score block


def _faiss() -> Any | None:
    try:
        import faiss
    except ImportError:
        return None
    return faiss


def faiss_gpu_available() -> bool:
    """True when the installed faiss has GPU support and sees a GPU."""
    faiss = _faiss()
    return bool(faiss is not None and hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0)


def _resolve(backend: str) -> str:
    if backend not in SEARCH_BACKENDS:
        raise ConfigError(f"search backend must be one of {SEARCH_BACKENDS}, got {backend!r}")
    if backend == "auto":
        return "faiss" if _faiss() is not None else "numpy"
    if backend == "faiss" and _faiss() is None:
        raise BackendUnavailable("search backend 'faiss' needs faiss: `pip install faiss-cpu` (or faiss-gpu)")
    return backend


def _unit(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(l2_normalize(np.asarray(x, dtype=np.float32)), dtype=np.float32)


def _numpy_knn(base: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sims, ids = [], []
    for lo in range(0, len(queries), _CHUNK):
        scores = queries[lo : lo + _CHUNK] @ base.T
        top = (
            np.argpartition(-scores, k - 1, axis=1)[:, :k]
            if k < base.shape[0]
            else np.argsort(-scores, axis=1)
        )
        part = np.take_along_axis(scores, top, axis=1)
        order = np.lexsort((top, -part), axis=1)  # descending score, ties by index
        sims.append(np.take_along_axis(part, order, axis=1))
        ids.append(np.take_along_axis(top, order, axis=1))
    return np.concatenate(sims), np.concatenate(ids).astype(np.int64)


def _faiss_knn(base: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    faiss = _faiss()
    resources = faiss.StandardGpuResources() if faiss_gpu_available() else None  # outlives the index
    if resources is not None:
        index = faiss.GpuIndexFlatIP(resources, base.shape[1])
    else:
        index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    sims, ids = index.search(queries, k)
    return sims, ids.astype(np.int64)


def knn(base: Any, queries: Any, k: int, backend: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` cosine neighbours in ``base [N, D]`` of each row of ``queries [Q, D]``.

    Returns ``(sims [Q, k] float32, ids [Q, k] int64)``, best first; ``k`` is capped at ``N``.
    """
    b, q = _unit(base), _unit(queries)
    k = min(int(k), b.shape[0])
    if k < 1 or q.shape[0] == 0:
        return np.zeros((q.shape[0], max(k, 0)), np.float32), np.zeros((q.shape[0], max(k, 0)), np.int64)
    fn = _faiss_knn if _resolve(backend) == "faiss" else _numpy_knn
    return fn(b, q, k)


@dataclass(frozen=True)
class DuplicatePair:
    """Two scenes of different videos whose embeddings have cosine >= the threshold (``i < j``)."""

    i: int
    j: int
    similarity: float


def cross_video_duplicates(
    emb: Any, videos: Sequence[Any], threshold: float = 0.95, k: int = 16, backend: str = "auto"
) -> list[DuplicatePair]:
    """Pairs of scenes from different videos with cosine ``>= threshold``, sorted by ``(i, j)``.

    ``emb [N, D]`` stacks the scene embeddings of many videos, ``videos[n]`` names scene n's video.
    Each scene looks at its ``k`` nearest neighbours (itself included), so a scene with more than
    ``k - 1`` near-copies reports only the closest ones; raise ``k`` for heavy duplication.
    """
    owner = np.asarray(videos, dtype=object)
    if owner.shape[0] != len(emb):
        raise ValueError(f"cross_video_duplicates: {len(emb)} embeddings but {owner.shape[0]} video names")
    sims, ids = knn(emb, emb, k, backend)
    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    cols, vals = ids.ravel(), sims.ravel()
    keep = (cols >= 0) & (vals >= threshold) & (owner[rows] != owner[np.maximum(cols, 0)])
    found: dict[tuple[int, int], float] = {}
    for r, c, v in zip(rows[keep], cols[keep], vals[keep]):
        key = (min(int(r), int(c)), max(int(r), int(c)))
        found[key] = max(found.get(key, -1.0), float(v))
    return [DuplicatePair(i, j, s) for (i, j), s in sorted(found.items())]
