"""BLIP-2 captions batched across videos: ``CaptionStage`` (the middle frame of each merged scene,
grounding) and ``FrameCaptionStage`` (every key frame, Video-ChatGPT semi-automatic)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage, error_reason
from vidfast.stages.models import shared_model


def blip2_captioner(model: str, device: str, dtype: str, batch_size: int) -> Any:
    """The process's one captioner for (model, device, dtype), shared by every stage using it:
    ``Blip2Captioner``, or ``LabelCaptioner`` for an image-classifier manifest."""
    from vidfast.models.classifier import frame_captioner

    return shared_model(("blip2", model, device, dtype),
                        lambda: frame_captioner(model, device=device, dtype=dtype, batch_size=batch_size))


@dataclass
class CaptionStage(Stage):
    """One caption per captioned merged scene (empty list for scenes too short to caption)."""

    name: ClassVar[str] = "captions"
    resources: ClassVar[Resources] = Resources(cpus=1.0, gpus=1.0, memory_gb=4.0)
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
        self.captioner = blip2_captioner(self.model, self.device, self.dtype, self.generate_batch)

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


@dataclass
class FrameCaptionStage(Stage):
    """One BLIP-2 caption per key frame (``key_frames``), all frames of a batch of videos at once."""

    name: ClassVar[str] = "frame_captions"
    uses: ClassVar[tuple[str, ...]] = ("key_frames",)
    resources: ClassVar[Resources] = Resources(cpus=1.0, gpus=1.0, memory_gb=4.0)
    max_workers: ClassVar[int | None] = 1
    batch_size: ClassVar[int] = 8
    performance_fields: ClassVar[frozenset[str]] = frozenset({"generate_batch", "lazy_load"})
    model: str = "Salesforce/blip2-opt-2.7b"
    device: str = "auto"
    dtype: str = "auto"
    prompt: str | None = None
    max_new_tokens: int = 30
    generate_batch: int = 16
    lazy_load: bool = False  # load the model at the first frames, not in setup (runs that may have none)

    def setup(self) -> None:
        self.captioner = None if self.lazy_load else self._load()

    def _load(self) -> Any:
        return blip2_captioner(self.model, self.device, self.dtype, self.generate_batch)

    def process(self, batch: list[VideoTask]) -> list[VideoTask]:
        frames = [img for t in batch for img in t.data["key_frames"]["images"]]
        if frames and self.captioner is None:
            self.captioner = self._load()
        captions = self.captioner.caption(frames, prompt=self.prompt, max_new_tokens=self.max_new_tokens) if frames else []
        self.stats.add("frames", len(frames))
        at = 0
        for task in batch:
            n = len(task.data["key_frames"]["images"])
            task.data[self.name] = {"captions": [c.strip() for c in captions[at : at + n]],
                                    "times": list(task.data["key_frames"]["times"])}
            at += n
        return batch
