"""Transient stages that sample frames for the model stages, one sequential pass per video.

Their outputs (decoded frames) are handed to the next stage and never stored: after a restart they
run again only for the videos whose model stage must run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from vidfast.io.sampling import plan_uniform, sample_frames
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage


def _sample(task: VideoTask, times_plan: Any, short_side: int) -> dict[str, Any]:
    sampled = sample_frames(task.video, times_plan, short_side=short_side)
    return {"images": sampled.images, "times": np.asarray(sampled.times_s), "range_ids": np.asarray(sampled.range_ids)}


@dataclass
class SceneFramesStage(Stage):
    """``frames_per_scene`` frames uniformly inside every scene, at the vision model's input size."""

    name: ClassVar[str] = "scene_frames"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=0.5)
    persist: ClassVar[bool] = False
    frames_per_scene: int = 3
    short_side: int = 224

    def process_item(self, task: VideoTask) -> dict[str, Any]:
        scenes = task.data["shots"]["scenes"]
        out = _sample(task, plan_uniform(scenes, self.frames_per_scene), self.short_side)
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

    def process_item(self, task: VideoTask) -> dict[str, Any]:
        merged = task.data["clip"]["merged_scenes"]
        chosen = [i for i, (s, e) in enumerate(merged) if e - s >= self.min_scene_s]
        if not chosen:
            return {"scene_ids": [], "images": np.zeros((0, 1, 1, 3), np.uint8)}
        out = _sample(task, plan_uniform([merged[i] for i in chosen], 1), self.short_side)
        self.stats.add("frames", len(chosen))
        return {"scene_ids": chosen, **out}
