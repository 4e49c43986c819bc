"""``ModelTagStage``: tags of every key frame from a Tag2Text / RAM tagging model.

Same output as ``ZeroShotTagStage`` (``tags``, ``scores``, ``vocabulary`` per key frame); the scores
are the model's sigmoid probabilities, and the model's own per-class thresholds decide (RAM's
threshold file, Tag2Text's 0.68 with its overrides) unless ``threshold`` replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vidfast.stages.models import shared_model
from vidfast.stages.tags.clip_zero_shot import KeyFrameTagStage


@dataclass
class ModelTagStage(KeyFrameTagStage):
    """Per key frame: the classes of a Tag2Text/RAM model above their thresholds (best ``top_k``)."""

    model: str = "tag2text-swin-14m"
    device: str = "auto"
    dtype: str = "auto"
    backend: str = "auto"
    threshold: float | None = None  # None: the model's per-class thresholds
    top_k: int = 10
    encode_batch: int = 16
    lazy_load: bool = False

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

    def vocabulary_name(self) -> str | None:
        return self.tagger.vocabulary if self.tagger is not None else None
