"""Typed task records that flow between stages.

A ``VideoTask`` is one input video. Stages attach their results under ``data[stage_name]`` and record
failures with ``fail()``; a failed task skips the remaining stages but still reaches the manifest.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Any

DONE, FAILED, SKIPPED, CACHED = "done", "failed", "skipped", "cached"


@dataclass
class TaskError:
    """Why one stage failed for one video."""

    stage: str
    reason: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"stage": self.stage, "reason": self.reason, "message": self.message}


def video_id_for(path: str) -> str:
    """A stable, file-system-safe id: the file stem plus a short hash of the absolute path."""
    absolute = os.path.abspath(path)
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in os.path.splitext(os.path.basename(absolute))[0])
    digest = hashlib.sha1(absolute.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    stem = stem.lstrip(".")  # no hidden state files
    return f"{stem[:60] or 'video'}-{digest}"


_SAFE_STEM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}")


def safe_file_stem(name: str) -> str:
    """A file name for an untrusted id (caption key, prediction key, file stem), collision-free.

    An id of 1-100 characters from ``A-Z a-z 0-9 . _ -`` that does not start with ``.`` is used as is
    (so ordinary ids such as ``v_QOlSCBRmfWY`` keep their usual file names). Any other id (``../``,
    ``/abs/path``, NUL, spaces, shell characters, unicode, over 100 characters, empty, ``.``/``..``)
    becomes ``<slug>~<hash>``: the id with every other character replaced by ``_`` (at most 60 kept)
    and 12 hex digits of its SHA-1. An unchanged id never contains ``~``, so it never equals a
    rewritten one, and two different rewritten ids differ in their hash. The result never contains a
    path separator and never leaves the directory it is joined to. (Assumes a case-sensitive file
    system, like the ids themselves.)
    """
    if _SAFE_STEM.fullmatch(name):
        return name
    slug = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name).lstrip(".")[:60]
    digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{slug or 'id'}~{digest}"


@dataclass
class VideoTask:
    """One input video and everything the stages learned about it."""

    video: str
    source: str = ""
    video_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    stage_status: dict[str, str] = field(default_factory=dict)
    error: TaskError | None = None

    def __post_init__(self) -> None:
        if not self.video_id:
            self.video_id = video_id_for(self.video)

    @property
    def failed(self) -> bool:
        return self.error is not None

    def fail(self, stage: str, reason: str, message: str) -> None:
        """Record the first failure; later stages see ``failed`` and skip this task."""
        self.stage_status[stage] = FAILED
        if self.error is None:
            self.error = TaskError(stage, reason, message)

    def status(self) -> str:
        """``failed`` if any stage failed, ``skipped`` if no stage ran, else ``done``."""
        if self.failed:
            return FAILED
        if self.stage_status and all(s == SKIPPED for s in self.stage_status.values()):
            return SKIPPED
        return DONE

    def manifest_row(self) -> dict[str, Any]:
        """The manifest line for this video."""
        row: dict[str, Any] = {
            "video": self.video,
            "video_id": self.video_id,
            "status": self.status(),
            "error": self.error.message if self.error else None,
            "reason": self.error.reason if self.error else None,
            "failed_stage": self.error.stage if self.error else None,
            "stages": dict(self.stage_status),
        }
        if self.source and self.source != self.video:
            row["source"] = self.source
        return row
