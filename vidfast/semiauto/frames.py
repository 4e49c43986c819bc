"""Per-key-frame predictions of the semi-automatic path and the summary prompt's ``{frames}`` text.

A key frame's predictions are its BLIP-2 caption, its region captions with boxes and its tags.
``to_original`` gives the 4-tuple of Video-ChatGPT's ``--pred_dir`` files,
``[blip2_caption, grit_string, [tags joined by " | "], [w, h]]``; ``read_predictions`` reads such
a file back, so precomputed predictions can stand in for the vision stages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidfast.errors import InputError
from vidfast.semiauto.regions import Region, captions_of, grit_string, parse_grit
from vidfast.semiauto.tags import PhraseMatcher, filter_regions

TAG_SEPARATOR = " | "


@dataclass
class FramePrediction:
    """What the vision models said about one key frame."""

    caption: str
    regions: list[Region] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    size: tuple[int, int] | None = None  # (w, h) of the frame the boxes refer to
    time_s: float | None = None

    def to_original(self) -> list[Any]:
        """``[blip2_caption, grit_dense_string, [" | "-joined tags], [w, h]]``, the ``--pred_dir`` shape."""
        size = list(self.size) if self.size else None
        return [self.caption, grit_string(self.regions), [TAG_SEPARATOR.join(self.tags)], size]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in stage results (boxes and scores kept)."""
        return {
            "caption": self.caption,
            "regions": [r.to_dict() for r in self.regions],
            "tags": list(self.tags),
            "size": list(self.size) if self.size else None,
            "time_s": self.time_s,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> FramePrediction:
        size = doc.get("size")
        return cls(
            doc["caption"],
            [Region.from_dict(r) for r in doc.get("regions", [])],
            list(doc.get("tags", [])),
            (int(size[0]), int(size[1])) if size else None,
            doc.get("time_s"),
        )

    @classmethod
    def from_original(cls, item: Any, where: str) -> FramePrediction:
        """One element of a ``--pred_dir`` file (only the first tag string is used, as the original)."""
        if not isinstance(item, (list, tuple)) or len(item) < 3:
            raise InputError(
                f"{where}: expected [caption, dense_string, [tags], size], got {json.dumps(item)[:80]}"
            )
        caption, dense, tag_field = item[0], item[1], item[2]
        tag_text = tag_field[0] if isinstance(tag_field, (list, tuple)) and tag_field else tag_field
        if (
            not isinstance(caption, str)
            or not isinstance(dense, str)
            or not isinstance(tag_text, (str, type(None)))
        ):
            raise InputError(f"{where}: caption and dense string must be strings, tags a list of strings")
        tags = [t.strip() for t in (tag_text or "").split("|") if t.strip()]
        size = item[3] if len(item) > 3 and isinstance(item[3], (list, tuple)) and len(item[3]) == 2 else None
        return cls(caption, parse_grit(dense), tags, tuple(int(v) for v in size) if size else None)


def read_predictions(path: str | Path) -> list[FramePrediction]:
    """The key frames of one ``--pred_dir`` file (a JSON list of 4-tuples)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read predictions file {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise InputError(f"predictions file {path} is not valid JSON: {exc}") from exc
    if not isinstance(doc, list):
        raise InputError(f"predictions file {path} must hold a JSON list with one entry per key frame")
    return [FramePrediction.from_original(item, f"{path}[{i}]") for i, item in enumerate(doc)]


def summary_frames(
    frames: Sequence[FramePrediction], match: PhraseMatcher
) -> tuple[str, list[dict[str, Any]]]:
    """The ``{frames}`` text of the dense-summary prompt and, per frame, what was kept and dropped.

    Each moment lists its frame caption and the region captions that passed the tag-vocabulary
    filter (captions only: coordinates never reach the LLM). Moments with nothing to say are left out.
    """
    blocks, records = [], []
    for frame in frames:
        kept, dropped = filter_regions(captions_of(frame.regions), frame.tags, match)
        records.append(
            {
                "time_s": frame.time_s,
                "caption": frame.caption,
                "tags": list(frame.tags),
                "regions": kept,
                "regions_dropped": dropped,
            }
        )
        lines = [f"Frame caption: {frame.caption.strip()}"] if frame.caption.strip() else []
        lines += [f"Regions: {'; '.join(kept)}"] if kept else []
        if lines:
            blocks.append("\n".join([f"Moment {len(blocks) + 1}:", *lines]))
    return "\n\n".join(blocks), records
