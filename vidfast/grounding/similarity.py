"""Scene embeddings, the scene x scene cosine matrix, and caption <-> scene CLIP scores.

Seed-spec §2.3: a scene's embedding is the mean of its sampled frames' *projected, un-normalised*
CLIP image embeddings (``normalize=False``, the original's behaviour and our default);
``normalize=True`` L2-normalises each frame first, so every frame weighs the same in the mean.
Seed-spec §2.6: a caption's score is the cosine with each of its scene's sampled frames, reduced by
``max`` (README) or ``mean`` (the original CLI default).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidfast.grounding import kernels, reference
from vidfast.ops._dispatch import is_torch

EPS = 1e-8  # floor of a vector norm, as torch.nn.functional.cosine_similarity uses
REDUCTIONS = ("max", "mean")


def l2_normalize(x: Any) -> Any:
    """Rows of ``x`` (numpy or torch) scaled to unit length; zero rows stay zero."""
    if is_torch(x):
        return x / x.norm(dim=-1, keepdim=True).clamp_min(EPS)
    x = np.asarray(x)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), EPS).astype(x.dtype)


def scene_embeddings(frame_emb: Any, offsets: Any, normalize: bool = False, backend: str = "auto") -> Any:
    """Per-scene mean of ``frame_emb [F, D]`` over ``offsets [M+1]`` (scene m = rows offsets[m]:offsets[m+1])."""
    frames = l2_normalize(frame_emb) if normalize else frame_emb
    return kernels.segment_mean(frames, offsets, backend=backend)


def cosine_matrix(emb: Any) -> Any:
    """Scene x scene cosine similarity ``[M, M]`` in one GEMM of the row-normalised embeddings.

    numpy in, numpy out; torch in (any device), torch out - a CUDA tensor stays on the GPU.
    """
    unit = l2_normalize(emb)
    return unit @ unit.T


def caption_scene_scores(
    frame_emb: np.ndarray,
    frame_offsets: np.ndarray,
    caption_emb: np.ndarray,
    caption_scene: np.ndarray,
    reduce: str = "max",
) -> np.ndarray:
    """CLIP score of caption k: cosine with every sampled frame of scene ``caption_scene[k]``, reduced.

    ``frame_emb [F, D]`` grouped by ``frame_offsets [M+1]``, ``caption_emb [K, D]``; returns ``[K]``.
    """
    if reduce not in REDUCTIONS:
        raise ValueError(f"caption_scene_scores: reduce must be one of {REDUCTIONS}, got {reduce!r}")
    off = reference.check_offsets(frame_offsets, len(frame_emb), "caption_scene_scores")
    scene = np.asarray(caption_scene, dtype=np.int64)
    counts = np.diff(off)[scene]
    if counts.size == 0:
        return np.zeros(0, dtype=np.float32)
    starts = np.repeat(off[scene] - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    frame_idx = starts + np.arange(counts.sum())
    cap_idx = np.repeat(np.arange(scene.size), counts)
    f, c = l2_normalize(np.asarray(frame_emb)), l2_normalize(np.asarray(caption_emb))
    cos = np.einsum("ij,ij->i", f[frame_idx], c[cap_idx])
    bounds = np.concatenate(([0], np.cumsum(counts)[:-1]))
    if reduce == "max":
        return np.maximum.reduceat(cos, bounds)
    return np.add.reduceat(cos, bounds) / counts
