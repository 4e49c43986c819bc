"""Human caption files for the LLM recipes, matched to run inputs by id.

Accepted shapes (one JSON object, keys are video ids):

- ActivityNet Captions: ``{id: {"duration": s, "timestamps": [[s, e], ...], "sentences": [str, ...]}}``;
- plain text: ``{id: "caption text"}``;
- the synthetic generator's sidecar ``<video>.json`` (``scenes[].description``), used when
  ``llm.captions`` is ``sidecar``.

Key handling fixes the Video-ChatGPT bug (it stripped 4 characters from every key and then looked
the caption up with the stripped key, so no ActivityNet key ever matched): a caption is looked up
with its original key, and a known video extension is stripped only when present.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidfast.errors import InputError
from vidfast.inputs import VIDEO_EXTENSIONS

SIDECAR = "sidecar"


@dataclass(frozen=True)
class Caption:
    """The human description of one video: its sentences and the text handed to the LLM."""

    video_id: str
    sentences: tuple[str, ...]
    timestamps: tuple[tuple[float, float], ...] = ()
    duration: float | None = None

    @property
    def text(self) -> str:
        # The original interpolated the Python list repr (['A man ...', ' He ...']); we join the
        # sentences into one paragraph, which is what the prompts ask for (seed-spec 1.1).
        return " ".join(s.strip() for s in self.sentences if s.strip())


def strip_video_ext(name: str) -> str:
    """``name`` without a trailing known video extension (``v_abc.mp4`` -> ``v_abc``; ``v_abc`` unchanged)."""
    stem, ext = os.path.splitext(name)
    return stem if ext.lower() in VIDEO_EXTENSIONS else name


def task_name(video: str) -> str:
    """The id of a run input: its file name with a known video extension stripped."""
    return strip_video_ext(os.path.basename(os.path.normpath(video)))


def _parse_entry(key: str, value: Any, where: str) -> Caption:
    if isinstance(value, str):
        return Caption(key, (value,))
    if isinstance(value, dict) and isinstance(value.get("sentences"), list):
        sentences = value["sentences"]
        if not all(isinstance(s, str) for s in sentences):
            raise InputError(f"{where}: entry {key!r} has non-string sentences; each must be a string.")
        stamps = tuple(tuple(map(float, t)) for t in value.get("timestamps") or ())
        duration = value.get("duration")
        return Caption(key, tuple(sentences), stamps, float(duration) if duration is not None else None)
    raise InputError(
        f"{where}: entry {key!r} must be a caption string or an object with a 'sentences' list "
        f"(ActivityNet Captions), got {json.dumps(value)[:80]}"
    )


def read_captions(path: str | os.PathLike[str]) -> dict[str, Caption]:
    """Every caption of an ActivityNet-style or ``{id: text}`` JSON file, keyed by the original key."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"cannot read caption file {path}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"caption file {path} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InputError(
            f"caption file {path} must hold a JSON object {{video_id: caption}}, got a {type(doc).__name__}"
        )
    return {str(k): _parse_entry(str(k), v, str(path)) for k, v in doc.items()}


class CaptionIndex:
    """Captions looked up by run input: original key first, then the key without its video extension."""

    def __init__(self, captions: dict[str, Caption]) -> None:
        self.by_key = dict(captions)
        for key, cap in captions.items():
            self.by_key.setdefault(strip_video_ext(key), cap)

    def find(self, video: str) -> Caption | None:
        base = os.path.basename(os.path.normpath(video))
        return self.by_key.get(base) or self.by_key.get(strip_video_ext(base))


def read_sidecar(video: str) -> Caption | None:
    """The scene descriptions of a synthetic video's ``<video>.json`` sidecar, or None without one."""
    path = Path(video + ".json")
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        scenes = doc["scenes"]
        sentences = tuple(s["description"] for s in scenes)
        stamps = tuple((float(s["start_sec"]), float(s["end_sec"])) for s in scenes)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"sidecar {path} has no scenes[].description: {exc}") from exc
    return Caption(task_name(video), sentences, stamps, doc.get("duration"))


def caption_ids(path: str | os.PathLike[str]) -> list[str]:
    """The ids of a caption file, usable as run INPUTS for the text-only LLM recipes."""
    return list(read_captions(path))


def file_digest(path: str | None) -> str | None:
    """A content hash of a file named in the config, so a changed file re-runs the stages using it."""
    if not path or path == SIDECAR:
        return None
    import hashlib

    try:
        return hashlib.sha1(Path(path).read_bytes()).hexdigest()[:16]
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
