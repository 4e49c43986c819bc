"""The similarity / merge / filter / negative-span core of the InternVid-G grounding recipe.

Pure algorithms on arrays and scene lists (no models, no I/O), each with a numpy reference and,
where it pays, native CPU and CUDA kernels (``csrc/similarity``):

- ``similarity`` — ``scene_embeddings`` (segment mean of frame embeddings), ``cosine_matrix`` (one
  GEMM), ``caption_scene_scores`` (max/mean cosine of a caption with its scene's frames) (§2.3, §2.6)
- ``merge`` — ``merge_scenes`` / ``merge_spans``: greedy consecutive merge, rules ``last`` /
  ``union``, threshold 0.85 strict; merged times; max-pooled merged matrix (§2.4)
- ``select`` — ``select_captions`` / ``keep_mask`` / ``group_captions``: median (global or per
  video) or fixed-threshold caption selection, order-preserving grouping (§2.7)
- ``negatives`` — ``grounding_rows``: positive-span growth and negative spans, one row per caption
  with the original field names; its docstring lists every original bug fixed (§2.8)
- ``search`` — ``knn`` / ``cross_video_duplicates``: FAISS (CPU/GPU) or numpy cross-video search
- ``kernels`` — backend dispatch (``auto|native|reference|cuda``) of segment mean, segment max-pool,
  merge scan, span scan; ``reference`` — their numpy oracles

Section numbers refer to seed-spec.md. Fixed vs the original, in short: deterministic caption
order (§2.7); the unreachable "no negative interval" test, the binary-search fallbacks, the silent
100-scene truncation and negative spans not containing the positive span (§2.8, see ``negatives``).
"""

from vidfast.grounding.kernels import merge_scan, merge_scan_batch, segment_max_pool, segment_mean, span_scan
from vidfast.grounding.merge import MERGE_RULES, MergeResult, merge_scenes, merge_spans, merged_scene_times
from vidfast.grounding.negatives import GroundingStats, NegativeSpanConfig, grounding_rows
from vidfast.grounding.reference import SpanParams, SpanScan
from vidfast.grounding.search import DuplicatePair, cross_video_duplicates, knn
from vidfast.grounding.select import group_captions, keep_mask, select_captions
from vidfast.grounding.similarity import caption_scene_scores, cosine_matrix, l2_normalize, scene_embeddings

__all__ = [
    "MERGE_RULES",
    "DuplicatePair",
    "GroundingStats",
    "MergeResult",
    "NegativeSpanConfig",
    "SpanParams",
    "SpanScan",
    "caption_scene_scores",
    "cosine_matrix",
    "cross_video_duplicates",
    "grounding_rows",
    "group_captions",
    "keep_mask",
    "knn",
    "l2_normalize",
    "merge_scan",
    "merge_scan_batch",
    "merge_scenes",
    "merge_spans",
    "merged_scene_times",
    "scene_embeddings",
    "segment_max_pool",
    "segment_mean",
    "select_captions",
    "span_scan",
]
