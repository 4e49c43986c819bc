"""Grounding records with negative spans (seed-spec §2.8, HawkEye ``ground_data_construction.py``).

Per caption segment ``[cs, ce]`` over a video's merged scenes and merged similarity matrix: locate
the scenes inside the segment (±``boundary_shift``), grow the positive span over neighbours similar
(``> same_threshold``) to its end scenes, mark every scene whose best similarity to the span is
``>= same_threshold`` as similar, and let the negative span reach left/right up to the nearest
similar scene (its end / start), the video edge when nothing similar is in the way, or stop at the
caption when everything on that side is similar. Time between scenes (gaps left by dropped short
scenes) counts as free, as in the original. One row per caption, with the original field names.

FIXES (bugs of the original that we fix, not copy)
--------------------------------------------------
1. Unreachable skip test (step 8). The original meant to drop records without a negative interval
   but compared scene ids that can never match in the normal branch, so records whose negative
   span equals the positive span were kept. Here a record whose negative span adds no context on
   either side (``neg_start_sec >= start_sec and neg_end_sec <= end_sec``) is dropped by default;
   ``no_context="flag"`` keeps it with ``"no_context": true`` and ``"keep"`` keeps it silently.
   Either way it is counted (``GroundingStats.no_context``).
2. Binary-search fallbacks (step 2). "No scene starts after cs" returned scene 0 and "no scene ends
   before ce" returned the last scene, so captions outside the scene range (raw InternVid
   timestamps, captions past the 100th scene) became bogus spans covering most of the video. Here
   "none" stays none: such captions are unaligned, dropped and counted (``unaligned``).
3. Truncation to 100 scenes. The original silently cut every video to its first 100 merged scenes
   and then treated scene 99 as the last one, extending negative spans to the video end over
   content it never looked at. There is no cap by default; ``max_scenes`` sets one, capped videos
   and dropped scenes are reported, and the right horizon of a capped video is the end of its last
   kept scene, not the video duration.
4. Negative span not containing the positive span. A similar scene can end after the caption's
   start (the caption may start up to ``boundary_shift`` before its first scene; a neighbour equal
   to the threshold is "similar" but not grown over), which made ``neg_start_sec > start_sec`` and
   broke every consumer that samples windows inside the negative span. The negative bounds are
   clamped to contain the positive span.
5. Bad input is an error, not a silent skip: a matrix that does not match the scene list, unsorted
   scenes, or a segment without a ``captions`` list raise ``ValueError`` / ``TypeError`` naming the video.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidfast.errors import ConfigError
from vidfast.grounding import kernels
from vidfast.grounding.reference import NO_SCENE, SPAN_NO_CONTEXT, SPAN_OK, SPAN_STATUS_NAMES, SpanParams

NO_CONTEXT_MODES = ("drop", "flag", "keep")
ROW_FIELDS = (
    "video", "duration", "start_sec", "end_sec", "neg_start_sec", "neg_end_sec", "caption",
    "start_scene", "end_scene", "neg_start_scene", "neg_end_scene",
)  # fmt: skip


@dataclass(frozen=True)
class NegativeSpanConfig:
    """Parameters of the negative-span construction (defaults: the original's CLI defaults)."""

    boundary_shift: float = 0.25
    same_threshold: float = 0.8
    min_caption_secs: float = 0.5
    max_caption_secs: float = 10.0
    max_scenes: int | None = None  # the original hard-coded 100; None = no cap
    no_context: str = "drop"  # drop | flag | keep records whose negative span adds nothing

    def __post_init__(self) -> None:
        if self.no_context not in NO_CONTEXT_MODES:
            raise ConfigError(f"no_context must be one of {NO_CONTEXT_MODES}, got {self.no_context!r}")
        if self.max_scenes is not None and self.max_scenes < 1:
            raise ConfigError(f"max_scenes must be a positive int or None, got {self.max_scenes!r}")

    def span_params(self) -> SpanParams:
        return SpanParams(
            self.boundary_shift, self.same_threshold, self.min_caption_secs, self.max_caption_secs
        )


@dataclass
class GroundingStats:
    """Segment counts per outcome (``ok``, ``bad_length``, ``unaligned``, ``grown_too_long``,
    ``no_context``), rows written, and what a scene cap cut off."""

    segments: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPAN_STATUS_NAMES, 0))
    rows: int = 0
    no_context_kept: int = 0
    capped_videos: int = 0
    capped_scenes: int = 0

    def add(self, other: GroundingStats) -> None:
        """Accumulate another video's counts."""
        for key, value in other.segments.items():
            self.segments[key] = self.segments.get(key, 0) + value
        self.rows += other.rows
        self.no_context_kept += other.no_context_kept
        self.capped_videos += other.capped_videos
        self.capped_scenes += other.capped_scenes


def _scene_arrays(video: str, scenes: Sequence[Sequence[float]], sim: Any) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(scenes, dtype=np.float64).reshape(-1, 2)
    if tuple(sim.shape) != (len(arr), len(arr)):
        raise ValueError(f"{video}: similarity matrix {tuple(sim.shape)} does not match {len(arr)} scenes")
    if np.any(np.diff(arr[:, 0]) < 0) or np.any(np.diff(arr[:, 1]) < 0):
        raise ValueError(f"{video}: scenes must be sorted by time")
    return np.ascontiguousarray(arr[:, 0]), np.ascontiguousarray(arr[:, 1])


def _scene_id(value: int) -> int | None:
    return None if value == NO_SCENE else int(value)


def _row(video: str, duration: float, caption: str, scenes: np.ndarray, secs: np.ndarray) -> dict[str, Any]:
    values = (video, duration, *(float(s) for s in secs), caption, *(_scene_id(s) for s in scenes))
    return dict(zip(ROW_FIELDS, values))


def grounding_rows(
    video: str,
    duration: float,
    scenes: Sequence[Sequence[float]],
    sim: Any,
    segments: Sequence[Mapping[str, Any]],
    config: NegativeSpanConfig = NegativeSpanConfig(),
    backend: str = "auto",
) -> tuple[list[dict[str, Any]], GroundingStats]:
    """Grounding rows of one video and the counts of what was dropped and why.

    ``scenes`` are the merged scenes ``[[s, e], ...]`` and ``sim`` their merged matrix (numpy, or a
    torch CUDA tensor for the GPU scan); ``segments`` are caption rows with ``start_sec``,
    ``end_sec`` and ``captions``; ``video`` is the file name written to every row.
    """
    stats = GroundingStats()
    horizon = float(duration)
    if config.max_scenes is not None and len(scenes) > config.max_scenes:
        stats.capped_videos, stats.capped_scenes = 1, len(scenes) - config.max_scenes
        scenes, sim = scenes[: config.max_scenes], sim[: config.max_scenes, : config.max_scenes]
        horizon = float(scenes[-1][1])
    starts, ends = _scene_arrays(video, scenes, sim)
    cs = np.array([float(s["start_sec"]) for s in segments], dtype=np.float64)
    ce = np.array([float(s["end_sec"]) for s in segments], dtype=np.float64)
    scan = kernels.span_scan(sim, starts, ends, cs, ce, config.span_params(), horizon, backend=backend)
    rows: list[dict[str, Any]] = []
    for k, segment in enumerate(segments):
        status = int(scan.status[k])
        stats.segments[SPAN_STATUS_NAMES[status]] += 1
        keep = status == SPAN_OK or (status == SPAN_NO_CONTEXT and config.no_context != "drop")
        if not keep:
            continue
        new = [_row(video, duration, c, scan.scenes[k], scan.secs[k]) for c in _captions(video, segment)]
        if status == SPAN_NO_CONTEXT:
            stats.no_context_kept += 1
            for r in new if config.no_context == "flag" else []:
                r["no_context"] = True
        rows.extend(new)
    stats.rows = len(rows)
    return rows, stats


def _captions(video: str, segment: Mapping[str, Any]) -> list[str]:
    captions = segment.get("captions")
    if not isinstance(captions, (list, tuple)):
        raise TypeError(f"{video}: caption segment {dict(segment)!r} has no 'captions' list")
    return [str(c) for c in captions]
