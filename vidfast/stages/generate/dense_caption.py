"""The dense noisy caption of Video-ChatGPT's semi-automatic path (seed-spec §1.4).

``PredictionsDirStage`` reads precomputed key-frame predictions (the original's ``--pred_dir``
files) in place of the vision stages. ``DenseCaptionStage`` gathers each video's key-frame
predictions (``frame_predictions``), applies the tag-vocabulary filter to the region captions
(``vidfast.semiauto.tags``, bugs fixed) and asks the LLM for a one-paragraph summary
(``prompts/dense_caption_summary.yaml``). The summary is kept in the stage result (the original
never saved it). A summary that stays invalid fails the video only when it has no human caption to
fall back on.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from vidfast.captions import task_name
from vidfast.errors import InputError
from vidfast.llm import LLMRequest, LLMResult
from vidfast.runtime.records import VideoTask, safe_file_stem
from vidfast.runtime.stage import Resources, Stage
from vidfast.semiauto.frames import FramePrediction, read_predictions, summary_frames
from vidfast.semiauto.regions import Region
from vidfast.semiauto.tags import matcher
from vidfast.stages.generate.base import LLMInvalid, LLMStage, all_failed, failure_entry
from vidfast.stages.generate.captions import raise_if_caption_missing

PREDICTIONS = "frame_predictions"
SUMMARY_TASK = "dense_caption_summary"


class NoPredictions(InputError):
    """A video has no file in the predictions directory."""


def dir_digest(path: str | None) -> str | None:
    """A hash of a directory's listing (names, sizes, mtimes): edited files re-run the stages using it."""
    if not path:
        return None
    try:
        entries = sorted(
            (e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in os.scandir(path) if e.is_file()
        )
    except OSError as exc:
        raise InputError(f"cannot read the predictions directory {path}: {exc.strerror or exc}") from exc
    return hashlib.sha1(repr(entries).encode()).hexdigest()[:16]


def frame_predictions(task: VideoTask) -> list[FramePrediction]:
    """The key-frame predictions of a video: from ``--pred_dir`` or from the vision stages' results."""
    if PREDICTIONS in task.data:
        return [FramePrediction.from_dict(f) for f in task.data[PREDICTIONS]["frames"]]
    caps = task.data.get("frame_captions")
    if not caps:
        return []
    n = len(caps["captions"])
    tags = (task.data.get("frame_tags") or {}).get("tags") or [[] for _ in range(n)]
    reg = task.data.get("frame_regions") or {}
    regions = reg.get("regions") or [[] for _ in range(n)]
    sizes = reg.get("sizes") or [None] * n
    return [
        FramePrediction(
            caps["captions"][i],
            [Region.from_dict(r) for r in regions[i]],
            list(tags[i]),
            (int(sizes[i][0]), int(sizes[i][1])) if sizes[i] else None,
            caps["times"][i],
        )
        for i in range(n)
    ]


@dataclass
class PredictionsDirStage(Stage):
    """Reads ``{pred_dir}/{id}.json`` (a list of ``[caption, grit_string, [tags], [w, h]]`` per key frame)."""

    name: ClassVar[str] = PREDICTIONS
    resources: ClassVar[Resources] = Resources(cpus=0.1, memory_gb=0.1)
    pred_dir: str = ""
    digest: str | None = None

    def process_item(self, task: VideoTask) -> dict[str, Any]:
        path = Path(self.pred_dir) / f"{safe_file_stem(task_name(task.video))}.json"
        if not path.is_file():
            raise NoPredictions(f"no predictions for {task_name(task.video)!r}: {path} does not exist")
        frames = read_predictions(path)
        self.stats.add("frames", len(frames))
        return {"frames": [f.to_dict() for f in frames], "file": str(path)}


@dataclass
class DenseCaptionStage(LLMStage):
    """One dense noisy caption per video from its key frames' captions, tags and filtered regions."""

    name: ClassVar[str] = "dense_caption"
    vocabulary: str = "tag2text"
    gt_source: str | None = (
        "captions"  # the human-caption stage; with its result a failed summary is not fatal
    )

    def _frames(self, task: VideoTask) -> tuple[str, list[dict[str, Any]]]:
        return summary_frames(frame_predictions(task), matcher(self.vocabulary))

    def requests_for(self, task: VideoTask) -> list[LLMRequest]:
        text, _ = self._frames(task)
        return [self.request(SUMMARY_TASK, "summary", task.video, frames=text)] if text.strip() else []

    def assign(self, task: VideoTask, results: dict[str, LLMResult]) -> dict[str, Any]:
        _, records = self._frames(task)
        has_gt = bool(self.gt_source and (task.data.get(self.gt_source) or {}).get("text"))
        res = results.get("summary")
        summary, failures = None, []
        if res is not None and res.ok:
            summary = str(res.data["summary"]).strip() or None
        elif res is not None:
            failures = [failure_entry(res)]
            if not has_gt:
                raise all_failed(failures)
        elif not has_gt:
            raise_if_caption_missing(task, self.gt_source, "no key frame to summarise")
            raise LLMInvalid("no key frame produced a caption or a region caption to summarise")
        self.stats.add("regions_kept", sum(len(r["regions"]) for r in records))
        self.stats.add("regions_dropped", sum(len(r["regions_dropped"]) for r in records))
        return {"summary": summary, "frames": records, "failures": failures}
