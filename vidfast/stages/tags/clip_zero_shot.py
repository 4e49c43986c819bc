"""``ZeroShotTagStage``: tags of every key frame from CLIP zero-shot scores over a tag vocabulary.

The tagger (``vidfast.models.tagger.ZeroShotTagger``) shares the process's CLIP encoder with the
other CLIP stages and computes the vocabulary's text embeddings once per model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage
from vidfast.stages.models import shared_model


def clip_encoder(model: str, device: str, dtype: str, backend: str, batch_size: int) -> Any:
    """The process's one CLIP-role encoder for (model, device, dtype, backend) (the CLIP stages' key):
    ``ClipEncoder``, or ``ClassifierEncoder`` for an image-classifier manifest."""
    from vidfast.models.classifier import image_text_encoder

    return shared_model(
        ("clip", model, device, dtype, backend),
        lambda: image_text_encoder(model, device=device, dtype=dtype, backend=backend, batch_size=batch_size),
    )


class KeyFrameTagStage(Stage):
    """What the frame taggers share: per key frame, ``tags`` and ``scores`` (best first) and the
    ``vocabulary`` they come from. A subclass (a dataclass with ``lazy_load``) loads its tagger in
    ``_load`` (an object with ``tag(frames)`` -> per frame ``[(tag, score), ...]``) and names its
    vocabulary in ``vocabulary_name``."""

    name: ClassVar[str] = "frame_tags"
    uses: ClassVar[tuple[str, ...]] = ("key_frames",)
    resources: ClassVar[Resources] = Resources(cpus=1.0, gpus=0.25, memory_gb=2.0)
    max_workers: ClassVar[int | None] = 1
    batch_size: ClassVar[int] = 8
    performance_fields: ClassVar[frozenset[str]] = frozenset({"encode_batch", "lazy_load"})
    lazy_load: bool

    def setup(self) -> None:
        self.tagger = None if self.lazy_load else self._load()

    def _load(self) -> Any:
        raise NotImplementedError

    def vocabulary_name(self) -> str | None:
        raise NotImplementedError

    def process(self, batch: list[VideoTask]) -> list[VideoTask]:
        frames = [img for t in batch for img in t.data["key_frames"]["images"]]
        if frames and self.tagger is None:
            self.tagger = self._load()
        tagged = self.tagger.tag(frames) if frames else []
        self.stats.add("frames", len(frames))
        self.stats.add("tags", sum(len(t) for t in tagged))
        vocabulary = self.vocabulary_name()
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


@dataclass
class ZeroShotTagStage(KeyFrameTagStage):
    """Per key frame: the vocabulary tags whose prompt's CLIP cosine is >= ``threshold`` (best ``top_k``)."""

    model: str = "openai/clip-vit-large-patch14"
    device: str = "auto"
    dtype: str = "auto"
    backend: str = "auto"
    vocabulary: str = "tag2text"
    template: str = "a photo of {tag}"
    threshold: float = 0.25
    top_k: int = 10
    encode_batch: int = 64
    lazy_load: bool = False  # load the model at the first frames, not in setup (runs that may have none)

    def _load(self) -> Any:
        from vidfast.models.tagger import ZeroShotTagger

        encoder = clip_encoder(self.model, self.device, self.dtype, self.backend, self.encode_batch)
        key = (
            "tagger",
            self.model,
            self.device,
            self.dtype,
            self.backend,
            self.vocabulary,
            self.template,
            self.threshold,
            self.top_k,
        )
        return shared_model(
            key, lambda: ZeroShotTagger(encoder, self.vocabulary, self.template, self.threshold, self.top_k)
        )

    def vocabulary_name(self) -> str | None:
        return self.vocabulary
