"""Turn the INPUTS of a run into a list of videos.

An input is a video file, a directory (searched recursively for video files), or a list file:
``.txt`` (one path per line, ``#`` comments), ``.jsonl`` (one object per line with a ``video``
field) or ``.json`` (a list of paths or of such objects). Relative paths inside a list file are
relative to the list file. Paths that do not exist are not dropped: they become videos that fail
with reason ``missing``, so the manifest accounts for every input.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vidfast.errors import InputError

VIDEO_EXTENSIONS = frozenset(
    ".mp4 .m4v .mov .mkv .webm .avi .mpg .mpeg .ts .mts .m2ts .flv .wmv .3gp .ogv .vob .y4m".split()
)
LIST_EXTENSIONS = frozenset({".txt", ".jsonl", ".json"})
VIDEO_FIELDS = ("video", "video_path", "path", "video_fname")


@dataclass(frozen=True)
class InputVideo:
    """One video named by the inputs, and the input (list file or directory) that named it."""

    path: str
    source: str


def _from_json_value(value: object, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in VIDEO_FIELDS:
            if isinstance(value.get(key), str):
                return value[key]
    raise InputError(f"{where}: expected a path or an object with a 'video' field, got {json.dumps(value)[:80]}")


def _read_list(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read list file {path}: {exc}. Check that it exists and is UTF-8 text.") from exc
    if path.suffix == ".txt":
        return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if path.suffix == ".jsonl":
        out = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    out.append(_from_json_value(json.loads(line), f"{path}:{n}"))
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{n} is not valid JSON ({exc.msg}); each line must be one object.") from exc
        return out
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
    if not isinstance(doc, list):
        raise InputError(f"{path} must hold a JSON list of paths or of objects with a 'video' field.")
    return [_from_json_value(v, f"{path}[{i}]") for i, v in enumerate(doc)]


def _walk(directory: Path) -> list[str]:
    found: list[str] = []

    def onerror(exc: OSError) -> None:  # an unreadable sub-directory is recorded, not fatal
        found.append(exc.filename or str(directory))

    for root, dirs, files in os.walk(directory, onerror=onerror, followlinks=False):
        dirs.sort()
        found += [os.path.join(root, f) for f in sorted(files) if Path(f).suffix.lower() in VIDEO_EXTENSIONS]
    return found


def _stat_ok(check: Callable[[], bool]) -> bool:
    """``path.is_dir``/``is_file``, False for names the OS rejects (too long, NUL) - those inputs then
    fail as videos with a clear reason instead of stopping the run."""
    try:
        return check()
    except (OSError, ValueError):
        return False


def expand_inputs(inputs: list[str] | tuple[str, ...]) -> list[InputVideo]:
    """Every video named by ``inputs``, de-duplicated by absolute path, in a stable order."""
    if not inputs:
        raise InputError("no inputs given: name video files, directories, or list files (.txt/.jsonl/.json).")
    videos: list[InputVideo] = []
    seen: set[str] = set()
    for raw in inputs:
        path = Path(raw).expanduser()
        if _stat_ok(path.is_dir):
            named = [(p, str(path)) for p in _walk(path)]
        elif path.suffix.lower() in LIST_EXTENSIONS and _stat_ok(path.is_file):
            named = [(str((path.parent / p).expanduser()) if not os.path.isabs(p) else p, str(path))
                     for p in _read_list(path)]
        else:
            named = [(str(path), str(path))]
        for video, source in named:
            key = os.path.abspath(video)
            if key not in seen:
                seen.add(key)
                videos.append(InputVideo(video, source))
    return videos
