"""``ModelTagStage``: tags of every key frame from a Tag2Text / RAM tagging model.

Same output as ``ZeroShotTagStage`` (``tags``, ``scores``, ``vocabulary`` per key frame); the scores
are the model's sigmoid probabilities, and the model's own per-class thresholds decide (RAM's
threshold file, Tag2Text's 0.68 with its overrides) unless ``threshold`` replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage
from vidfast.stages.models import shared_model


@dataclass
class ModelTagStage(Stage):
    """Per key frame: the classes of a Tag2Text/RAM model above their thresholds (best ``top_k``)."""

    name: ClassVar[str] = "frame_tags"
    uses: ClassVar[tuple[str, ...]] = ("key_frames",)
    resources: ClassVar[Resources] = Resources(cpus=1.0, gpus=0.25, memory_gb=2.0)
    max_workers: ClassVar[int | None] = 1
    batch_size: ClassVar[int] = 8
    performance_fields: ClassVar[frozenset[str]] = frozenset({"encode_batch", "lazy_load"})
    model: str = "tag2text-swin-14m"
    device: str = "auto"
    dtype: str = "auto"
    backend: str = "auto"
    threshold: float | None = None  # None: the model's per-class thresholds
    top_k: int = 10
    encode_batch: int = 16
    lazy_load: bool = False

    def setup(self) -> None:
        self.tagger = None if self.lazy_load else self._load()

    def _load(self) -> Any:
        from vidfast.models.tag2text import ImageTagger

        key = ("image-tagger", self.model, self.device, self.dtype, self.backend, self.threshold, self.top_k)
        return shared_model(
            key,
            lambda: ImageTagger(
                self.model,
                device=self.device,
                dtype=self.dtype,
                backend=self.backend,
                batch_size=self.encode_batch,
                threshold=self.threshold,
                top_k=self.top_k,
            ),
        )

    def process(self, batch: list[VideoTask]) -> list[VideoTask]:
        frames = [img for t in batch for img in t.data["key_frames"]["images"]]
        if frames and self.tagger is None:
            self.tagger = self._load()
        tagged = self.tagger.tag(frames) if frames else []
        self.stats.add("frames", len(frames))
        self.stats.add("tags", sum(len(t) for t in tagged))
        vocabulary = self.tagger.vocabulary if self.tagger is not None else None
        at = 0
        for task in batch:
            n = len(task.data["key_frames"]["images"])
            part = tagged[at : at + n]
            task.data[self.name] = {
                "tags": [[t for t, _ in f] for f in part],
                "scores": [[s for _, s in f] for f in part],
                "vocabulary": vocabulary,
            }
            at += n
        return batch
