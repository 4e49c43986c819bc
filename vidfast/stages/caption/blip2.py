"""BLIP-2 captions of the middle frame of each merged scene, batched across videos."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage, error_reason
from vidfast.stages.models import shared_model


@dataclass
class CaptionStage(Stage):
    """One caption per captioned merged scene (empty list for scenes too short to caption)."""

    name: ClassVar[str] = "captions"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=4.0)
    max_workers: ClassVar[int | None] = 1
    batch_size: ClassVar[int] = 8
    performance_fields: ClassVar[frozenset[str]] = frozenset({"generate_batch"})
    model: str = "Salesforce/blip2-opt-2.7b"
    device: str = "auto"
    dtype: str = "auto"
    prompt: str | None = None
    max_new_tokens: int = 30
    generate_batch: int = 16

    def setup(self) -> None:
        from vidfast.models.blip2 import Blip2Captioner

        key = ("blip2", self.model, self.device, self.dtype)
        self.captioner = shared_model(key, lambda: Blip2Captioner(self.model, device=self.device, dtype=self.dtype,
                                                                  batch_size=self.generate_batch))

    def process(self, batch: list[VideoTask]) -> list[VideoTask]:
        frames = [img for t in batch for img in t.data["caption_frames"]["images"][: len(t.data["caption_frames"]["scene_ids"])]]
        captions = self.captioner.caption(frames, prompt=self.prompt, max_new_tokens=self.max_new_tokens) if frames else []
        self.stats.add("captions", len(captions))
        at = 0
        for task in batch:
            n = len(task.data["caption_frames"]["scene_ids"])
            try:
                task.data[self.name] = self._segments(task, captions[at : at + n])
            except Exception as exc:
                task.fail(self.name, error_reason(exc), str(exc))
            at += n
            task.data.pop("caption_frames", None)
        return batch

    def _segments(self, task: VideoTask, captions: list[str]) -> dict[str, Any]:
        merged = task.data["clip"]["merged_scenes"]
        ids = task.data["caption_frames"]["scene_ids"]
        segments = [{"scene": i, "start_sec": merged[i][0], "end_sec": merged[i][1],
                     "captions": [c.strip()] if c.strip() else []} for i, c in zip(ids, captions)]
        return {"segments": segments}
