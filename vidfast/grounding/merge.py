"""Merge consecutive similar scenes (seed-spec §2.4) and max-pool the similarity matrix to the spans.

Rules (threshold 0.85, strict ``>``): ``last`` - scene i joins the open span iff
``sim[i-1, i] > t`` (chaining of adjacent pairs); ``union`` - iff ``sim[k, i] > t`` for any member
k of the open span (the original's ``similar[k]`` holds every later j, not only neighbours, so a
span can be re-entered by a scene similar to an earlier member). Merged scene ``a`` covers
``[scenes[first][0], scenes[last][1]]``, gaps from dropped short scenes included, and
``sim'[a, b]`` is the maximum of ``sim`` over the two spans' members, with diagonal 1.

Deliberate differences from the original: it compared the similarity matrix after rounding it to
3 decimals in its JSONL (so 0.8504 did not merge); here full-precision values are compared, with
the threshold cast to the matrix dtype (numpy's float32 rule). Its 100-scene limit is not applied.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vidfast.errors import ConfigError
from vidfast.grounding import kernels

MERGE_RULES = ("last", "union")
MERGE_THRESHOLD = 0.85


@dataclass
class MergeResult:
    """Merged scenes of one video: span offsets, member lists, times and the pooled matrix."""

    offsets: np.ndarray  # int64 [M+1]: merged scene a = original scenes offsets[a]..offsets[a+1]-1
    spans: list[list[int]]
    scenes: list[list[float]]  # [[start, end], ...]; empty when no scene times were given
    similarity: Any  # [M, M], numpy or torch like the input matrix


def merge_spans(
    sim: Any, threshold: float = MERGE_THRESHOLD, rule: str = "last", backend: str = "auto"
) -> np.ndarray:
    """Span offsets ``[M+1]`` of the greedy consecutive merge of an ``[N, N]`` scene matrix."""
    if rule not in MERGE_RULES:
        raise ConfigError(f"merge rule must be one of {MERGE_RULES}, got {rule!r}")
    return kernels.merge_scan(sim, threshold, rule == "union", backend=backend)


def spans_from_offsets(offsets: np.ndarray) -> list[list[int]]:
    """Member indices of every span: ``[0, 2, 5]`` -> ``[[0, 1], [2, 3, 4]]``."""
    return [list(range(int(a), int(b))) for a, b in itertools.pairwise(offsets)]


def merged_scene_times(scenes: Sequence[Sequence[float]], offsets: np.ndarray) -> list[list[float]]:
    """``[first.start, last.end]`` of every span."""
    return [[float(scenes[a][0]), float(scenes[b - 1][1])] for a, b in itertools.pairwise(offsets)]


def merge_scenes(
    sim: Any,
    scenes: Sequence[Sequence[float]] | None = None,
    threshold: float = MERGE_THRESHOLD,
    rule: str = "last",
    backend: str = "auto",
) -> MergeResult:
    """Merge one video's consecutive similar scenes; ``scenes`` (``[[s, e], ...]``) gives merged times."""
    n = int(sim.shape[0])
    if scenes is not None and len(scenes) != n:
        raise ValueError(f"merge_scenes: {len(scenes)} scenes but a {n}x{n} similarity matrix")
    offsets = merge_spans(sim, threshold, rule, backend)
    pooled = kernels.segment_max_pool(sim, offsets, backend=backend) if n else np.zeros((0, 0), np.float32)
    times = merged_scene_times(scenes, offsets) if scenes is not None else []
    return MergeResult(offsets, spans_from_offsets(offsets), times, pooled)
