"""Transient stages that hand the model stages their frames, and the plan of which frames those are.

Normally the frames were kept during shot detection's decode (ShotStage with ``keep_frames``, see
vidfast/scenes/keeper.py), so no second decode happens; what was not kept (and everything after a
restart, when the shots come from the store) is fetched by the sampler in one partial pass. Their
outputs (decoded frames) are handed to the next stage and never stored: after a restart they run again
only for the videos whose model stage must run again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from vidfast.io.sampling import SamplePlan, plan_uniform, sample_frames
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage

FRAME_CACHE = "frame_cache"  # task.data key of the FrameCache a detection pass left (never stored)


def caption_ranges(merged: Sequence[Sequence[float]], min_scene_s: float) -> tuple[list[int], list[list[float]]]:
    """The merged scenes long enough to be captioned: (their indices, their [start, end])."""
    chosen = [i for i, (s, e) in enumerate(merged) if e - s >= min_scene_s]
    return chosen, [list(merged[i]) for i in chosen]


class GroundingPlanner:
    """The frames the grounding stages will ask for, scene by scene (a FrameKeeper planner).

    Applies the scene rules of ShotStage to the raw scenes (drop shorter than ``min_scene_s``, round to
    ms, keep the first ``max_scenes``) and, for each kept scene, names its ``frames_per_scene`` targets
    ("scene") and the middle of every merged scene of up to ``groups`` consecutive kept scenes ending
    with it that is long enough to be captioned ("caption").
    """

    def __init__(self, min_scene_s: float, max_scenes: int | None, frames_per_scene: int,
                 caption_min_scene_s: float, groups: int) -> None:
        self.min_scene_s, self.max_scenes = min_scene_s, max_scenes
        self.k, self.caption_min_scene_s, self.groups = frames_per_scene, caption_min_scene_s, groups
        self._source: object = None
        self._next = 0
        self.kept: list[list[float]] = []

    def __call__(self, scenes: Sequence[Sequence[float]], b: int) -> list[tuple[str, float]]:
        if scenes is not self._source or b < self._next:
            self._source, self._next, self.kept = scenes, 0, []
        out: list[tuple[str, float]] = []
        for s, e in scenes[self._next : b + 1]:
            self._next += 1
            if e - s < self.min_scene_s or (self.max_scenes and len(self.kept) >= self.max_scenes):
                continue
            self.kept.append([round(s, 3), round(e, 3)])
            j = len(self.kept) - 1
            out += [("scene", float(t)) for t in plan_uniform([self.kept[j]], self.k).times]
            for a in range(max(0, j - self.groups + 1), j + 1):
                span = [self.kept[a][0], self.kept[j][1]]
                if span[1] - span[0] >= self.caption_min_scene_s:
                    out.append(("caption", float(plan_uniform([span], 1).times[0])))
        return out


def _frames(stage: Stage, task: VideoTask, spec: str, plan: SamplePlan, short_side: int) -> dict[str, Any]:
    cache = task.data.get(FRAME_CACHE)
    if cache is not None and spec in cache.sides and cache.sides[spec] == short_side:
        hits, fetched = cache.hits, cache.fetched
        out = cache.take(task.video, spec, plan)
        cache.drop(spec)
        stage.stats.add("frames_kept", cache.hits - hits)
        stage.stats.add("frames_fetched", cache.fetched - fetched)
        return out
    sampled = sample_frames(
        task.video, plan, short_side=short_side, backend=getattr(stage, "decode_backend", "pyav"),
        device_frames=getattr(stage, "device_frames", False),
    )
    stage.stats.add("frames_fetched", len(plan))
    return {"images": sampled.images, "times": np.asarray(sampled.times_s), "range_ids": np.asarray(sampled.range_ids)}


@dataclass
class SceneFramesStage(Stage):
    """``frames_per_scene`` frames uniformly inside every scene, at the vision model's input size."""

    name: ClassVar[str] = "scene_frames"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=0.5)
    persist: ClassVar[bool] = False
    frames_per_scene: int = 3
    short_side: int = 224
    decode_backend: str = "pyav"  # decode.backend for frames shot detection did not keep
    device_frames: bool = False  # decode.device_frames: GPU-decoded frames stay on the GPU

    def process_item(self, task: VideoTask) -> dict[str, Any]:
        scenes = task.data["shots"]["scenes"]
        out = _frames(self, task, "scene", plan_uniform(scenes, self.frames_per_scene), self.short_side)
        self.stats.add("frames", len(out["times"]))
        return out


@dataclass
class CaptionFramesStage(Stage):
    """The middle frame of every merged scene long enough to be captioned."""

    name: ClassVar[str] = "caption_frames"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=0.3)
    persist: ClassVar[bool] = False
    min_scene_s: float = 1.0
    short_side: int = 224
    decode_backend: str = "pyav"
    device_frames: bool = False

    def process_item(self, task: VideoTask) -> dict[str, Any]:
        chosen, ranges = caption_ranges(task.data["clip"]["merged_scenes"], self.min_scene_s)
        try:
            if not chosen:
                return {"scene_ids": [], "images": np.zeros((0, 1, 1, 3), np.uint8)}
            out = _frames(self, task, "caption", plan_uniform(ranges, 1), self.short_side)
            self.stats.add("frames", len(chosen))
            return {"scene_ids": chosen, **out}
        finally:
            task.data.pop(FRAME_CACHE, None)  # the last user of the kept frames
