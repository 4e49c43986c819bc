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


@dataclass
class CaptionsStage(Stage):
    """Look up each video's caption: ``captions`` is a JSON file path or ``sidecar``.

    ``digest`` (the file's content hash) is part of the config so an edited file re-runs the stage.
    With ``optional`` a video without a caption is not a failure: its record has ``text`` None (a
    recipe that can also work from the video's frames then does so).
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
        if (cap is None or not cap.text) and self.optional:
            self.stats.add("no_caption")
            name = task_name(task.video)
            return {"id": name, "key": name, "sentences": [], "timestamps": [], "text": None, "source": "none"}
        if cap is None:
            where = f"{task.video}.json" if self.index is None else self.captions
            raise NoCaption(f"no caption for {task_name(task.video)!r} in {where}")
        if not cap.text:
            raise NoCaption(f"the caption of {task_name(task.video)!r} is empty")
        return {
            "id": task_name(task.video),
            "key": cap.video_id,
            "sentences": list(cap.sentences),
            "timestamps": [list(t) for t in cap.timestamps],
            "text": cap.text,
            "source": "sidecar" if self.index is None else "file",
        }
