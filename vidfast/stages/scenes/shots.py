"""Shot detection for one video per item, then the scene rules of the grounding recipe.

Rules (fixing the original's silent losses): scenes shorter than ``min_scene_s`` are dropped and
counted; a video without a cut is one scene (not zero); a ``max_scenes`` cap, when set and hit, is
reported in the result instead of truncating silently.

With ``keep_frames`` the same decode also keeps the frames the grounding stages will need (scene frames
for CLIP, merged-scene middles for BLIP-2; vidfast/scenes/keeper.py), so the video is decoded once.
They travel to those stages in ``task.data["frame_cache"]`` and are never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from vidfast.errors import DecodeError
from vidfast.io.decode import DecodeStats
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage
from vidfast.stages.decode.sample import FRAME_CACHE, GroundingPlanner


def apply_scene_rules(scenes: list[list[float]], min_scene_s: float, max_scenes: int | None) -> dict[str, Any]:
    """Keep scenes of at least ``min_scene_s`` seconds, up to ``max_scenes``; count what was removed."""
    kept = [[round(s, 3), round(e, 3)] for s, e in scenes if e - s >= min_scene_s]
    dropped = len(scenes) - len(kept)
    capped = max(0, len(kept) - max_scenes) if max_scenes else 0
    return {"scenes": kept[: len(kept) - capped], "dropped_short": dropped, "capped": capped}


_KEEP_FIELDS = frozenset({"keep_frames", "scene_side", "caption_side", "frames_per_scene", "caption_min_scene_s",
                          "caption_groups", "window_mb", "cache_mb"})


@dataclass
class ShotStage(Stage):
    """Cuts and scenes of each video (PySceneDetect-identical content/adaptive, or TransNetV2)."""

    name: ClassVar[str] = "shots"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=0.3)
    performance_fields: ClassVar[frozenset[str]] = _KEEP_FIELDS  # they change what is kept, not the shots
    detector: str = "content"
    threshold: float | None = None
    min_scene_len: int = 15
    backend: str = "auto"
    min_scene_s: float = 0.5
    max_scenes: int | None = None
    keep_frames: bool = False
    scene_side: int = 224
    caption_side: int = 224
    frames_per_scene: int = 3
    caption_min_scene_s: float = 1.0
    caption_groups: int = 4
    window_mb: int = 256
    cache_mb: int = 1024

    def process_item(self, task: VideoTask) -> dict[str, Any]:
        from vidfast.scenes import detect_scenes
        from vidfast.scenes.detect import make_detector
        from vidfast.scenes.keeper import FrameKeeper

        det = make_detector(self.detector, self.threshold, self.min_scene_len)
        keeper, stats = None, DecodeStats()
        if self.keep_frames and self.detector in ("content", "adaptive"):
            planner = GroundingPlanner(self.min_scene_s, self.max_scenes, self.frames_per_scene,
                                       self.caption_min_scene_s, self.caption_groups)
            keeper = FrameKeeper(det, planner, {"scene": self.scene_side, "caption": self.caption_side},
                                 self.window_mb << 20, self.cache_mb << 20)
        found = detect_scenes(task.video, detector=det, backend=self.backend, stats=stats, observer=keeper)
        result = {"fps": found.fps, "frame_count": found.frame_count, "cuts": found.cuts,
                  "detected": len(found.scenes), **apply_scene_rules(found.scenes, self.min_scene_s, self.max_scenes)}
        self.stats.add("frames", found.frame_count)
        self.stats.add("scenes", len(result["scenes"]))
        if not result["scenes"]:
            raise DecodeError("no_scenes", f"{task.video}: every detected scene is shorter than {self.min_scene_s} s "
                              "(scenes.min_scene_s); lower it to keep this video.")
        if keeper is not None:
            if stats.frames_decoded != found.frame_count:  # frames skipped (size changes): the sampler's count differs
                keeper.usable = False
            cache = keeper.finish(found.scenes)
            self.stats.add("frames_kept", len(cache.images))
            task.data[FRAME_CACHE] = cache
        return result
