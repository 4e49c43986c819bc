"""``CaptionsStage``: the human description of each video, from a caption file or the video's sidecar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from vidfast.captions import SIDECAR, CaptionIndex, read_captions, read_sidecar, task_name
from vidfast.errors import InputError
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage


class NoCaption(InputError):
    """A run input has no caption in the caption file (or no sidecar)."""


def raise_if_caption_missing(task: VideoTask, source: str | None, why: str) -> None:
    """For a stage that found nothing else to work from: the optional caption's absence is the reason."""
    missing = (task.data.get(source) or {}).get("missing") if source else None
    if missing:
        raise NoCaption(f"{missing}, and {why}")


@dataclass
class CaptionsStage(Stage):
    """Look up each video's caption: ``captions`` is a JSON file path or ``sidecar``.

    ``digest`` (the file's content hash) is part of the config so an edited file re-runs the stage.
    ``optional``: a video without a caption is not a failure; its result has ``text`` None and says
    why in ``missing`` (the videochatgpt recipe then writes its QA from the dense caption alone).
    """

    captions: str = SIDECAR
    digest: str | None = None
    optional: bool = False

    name: ClassVar[str] = "captions"
    resources: ClassVar[Resources] = Resources(cpus=0.1, memory_gb=0.1)
    max_workers: ClassVar[int | None] = 1

    def setup(self) -> None:
        self.index = None if self.captions == SIDECAR else CaptionIndex(read_captions(self.captions))

    def process_item(self, task: VideoTask) -> dict[str, Any]:
        cap = read_sidecar(task.video) if self.index is None else self.index.find(task.video)
        missing = None
        if cap is None:
            where = f"{task.video}.json" if self.index is None else self.captions
            missing = f"no caption for {task_name(task.video)!r} in {where}"
        elif not cap.text:
            missing = f"the caption of {task_name(task.video)!r} is empty"
        if missing is not None:
            if not self.optional:
                raise NoCaption(missing)
            self.stats.add("missing", 1)
            return {"id": task_name(task.video), "key": None, "sentences": [], "timestamps": [], "text": None,
                    "source": None, "missing": missing}
        return {
            "id": task_name(task.video),
            "key": cap.video_id,
            "sentences": list(cap.sentences),
            "timestamps": [list(t) for t in cap.timestamps],
            "text": cap.text,
            "source": "sidecar" if self.index is None else "file",
        }
