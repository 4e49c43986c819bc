"""``RegionCaptionStage``: dense region captions of key frames, the GRiT step of Video-ChatGPT's
semi-automatic path, from an open-vocabulary detector and BLIP-2.

OWLv2 finds the ``top_k`` best boxes of each key frame (class-agnostic objectness by default, or
the frame's tags as text queries), then BLIP-2 captions every box crop, all frames and crops of a
batch of videos at once. Boxes are integer pixels of the key frame, ``[x1, y1, x2, y2]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from vidfast.models.detector import crop
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage
from vidfast.stages.caption.blip2 import blip2_captioner
from vidfast.stages.models import shared_model


def owl_detector(model: str, device: str, dtype: str, batch_size: int) -> Any:
    """The process's one ``OwlDetector`` for (model, device, dtype)."""
    from vidfast.models.detector import OwlDetector

    return shared_model(
        ("owl", model, device, dtype),
        lambda: OwlDetector(model, device=device, dtype=dtype, batch_size=batch_size),
    )


@dataclass
class RegionCaptionStage(Stage):
    """Per key frame: up to ``top_k`` regions ``{"caption", "box", "score", "tag"}``, best first."""

    name: ClassVar[str] = "frame_regions"
    uses: ClassVar[tuple[str, ...]] = ("key_frames",)
    resources: ClassVar[Resources] = Resources(cpus=1.0, gpus=1.0, memory_gb=4.0)
    max_workers: ClassVar[int | None] = 1
    batch_size: ClassVar[int] = 8
    performance_fields: ClassVar[frozenset[str]] = frozenset({"detect_batch", "generate_batch", "lazy_load"})
    detector: str = "google/owlv2-base-patch16-ensemble"
    captioner: str = "Salesforce/blip2-opt-2.7b"
    device: str = "auto"
    dtype: str = "auto"
    top_k: int = 5
    min_score: float = 0.1
    nms_iou: float = 0.5
    rank: str = "objectness"
    prompt: str | None = None
    max_new_tokens: int = 30
    min_crop: int = 8  # smaller boxes are grown around their centre to this many pixels
    detect_batch: int = 8
    generate_batch: int = 16
    lazy_load: bool = False  # load the models at the first frames, not in setup (runs that may have none)

    def setup(self) -> None:
        self.owl = self.blip2 = None
        if not self.lazy_load:
            self._load()

    def _load(self) -> None:
        self.owl = owl_detector(self.detector, self.device, self.dtype, self.detect_batch)
        self.blip2 = blip2_captioner(self.captioner, self.device, self.dtype, self.generate_batch)

    def process(self, batch: list[VideoTask]) -> list[VideoTask]:
        frames = [img for t in batch for img in t.data["key_frames"]["images"]]
        if frames and self.owl is None:
            self._load()
        queries = [tags for t in batch for tags in self._tags(t)]
        found = (
            self.owl.detect(
                frames,
                queries,
                top_k=self.top_k,
                min_score=self.min_score,
                nms_iou=self.nms_iou,
                rank=self.rank,
            )
            if frames
            else []
        )
        crops = [crop(frame, d.box, self.min_crop) for frame, dets in zip(frames, found) for d in dets]
        captions = (
            self.blip2.caption(crops, prompt=self.prompt, max_new_tokens=self.max_new_tokens) if crops else []
        )
        self.stats.add("frames", len(frames))
        self.stats.add("regions", len(crops))
        per_frame, at = [], 0
        for dets in found:  # a box BLIP-2 said nothing about is no region caption
            per_frame.append(
                [
                    {"caption": c.strip(), "box": [round(v) for v in d.box], "score": d.score, "tag": d.label}
                    for d, c in zip(dets, captions[at : at + len(dets)])
                    if c.strip()
                ]
            )
            at += len(dets)
        self.stats.add("regions_uncaptioned", len(crops) - sum(len(f) for f in per_frame))
        at = 0
        for task in batch:
            n = len(task.data["key_frames"]["images"])
            task.data[self.name] = {
                "regions": per_frame[at : at + n],
                "sizes": task.data["key_frames"]["sizes"],
            }
            at += n
        for task in batch:  # the last stage reading the key frames: free them before the LLM stages
            task.data.pop("key_frames", None)
        return batch

    @staticmethod
    def _tags(task: VideoTask) -> list[list[str]]:
        n = len(task.data["key_frames"]["images"])
        tags = (task.data.get("frame_tags") or {}).get("tags")
        return [list(t) for t in tags] if tags and len(tags) == n else [[] for _ in range(n)]
