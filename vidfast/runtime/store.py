"""The run directory: atomic writes, per-video stage results, the manifest and the report.

Layout of a run directory::

    manifest.jsonl          one line per input video: status, error, per-stage status
    report.json             counts, failures by reason, per-stage throughput
    config.yaml             the resolved configuration of the last run
    state/<stage>/<id>.json one stage's result for one video, keyed by the stage fingerprint
    <recipe outputs>        written by the recipe's exporters

Every file is written to a temporary name and renamed, so a killed run never leaves a torn file.
A stage result is reused only when its fingerprint (stage config + upstream config) and the input
file's identity (size, mtime) still match; that is what makes re-runs free and resumption exact.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from vidfast.errors import OutputError
from vidfast.runtime.records import VideoTask


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def atomic_write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows))


def input_identity(path: str) -> str:
    """Size and modification time of an input file, or why it has none."""
    try:
        st = os.stat(path)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        return f"unstat:{type(exc).__name__}"
    return f"{st.st_size}:{st.st_mtime_ns}"


class RunStore:
    """Reads and writes one run directory."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.state = self.root / "state"

    def prepare(self) -> None:
        """Create the run directory or fail with a message that names the fix."""
        try:
            self.state.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root):  # a unique name: two runs may probe at once
                pass
        except OSError as exc:
            raise OutputError(
                f"cannot write to the output directory {self.root}: {exc.strerror or exc}. "
                "Choose a writable directory with -o/--output, or fix its permissions."
            ) from exc

    def remove_partial_writes(self, older_than_s: float = 0.0) -> int:
        """Delete the temporary files of writes a killed run left unfinished (``.<name>.*.tmp``); call only
        while holding the run's lock. ``older_than_s`` > 0 spares younger files: the shards of a run share
        the directory, and another shard's write in progress must not lose its file. Returns how many."""
        n = 0
        cutoff = time.time() - older_than_s
        for path in self.root.rglob(".*.tmp"):
            try:
                if path.is_file() and (older_than_s <= 0 or path.stat().st_mtime < cutoff):
                    path.unlink(missing_ok=True)
                    n += 1
            except FileNotFoundError:  # renamed into place by its writer meanwhile
                continue
        return n

    def _result_path(self, stage: str, task: VideoTask) -> Path:
        return self.state / stage / f"{task.video_id}.json"

    def load_result(self, stage: str, fingerprint: str, task: VideoTask) -> dict[str, Any] | None:
        """The stored result of ``stage`` for ``task`` if it is still valid, else None."""
        path = self._result_path(stage, task)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if doc.get("fingerprint") != fingerprint or doc.get("input") != input_identity(task.video):
            return None
        return doc

    def save_result(self, stage: str, fingerprint: str, task: VideoTask) -> None:
        """Persist this stage's outcome for ``task`` (its data, or its error)."""
        error = task.error.to_dict() if task.error and task.error.stage == stage else None
        doc = {
            "fingerprint": fingerprint,
            "input": input_identity(task.video),
            "video": task.video,
            "status": "failed" if error else "done",
            "error": error,
            "data": task.data.get(stage),
        }
        atomic_write_json(self._result_path(stage, task), doc)

    def array_path(self, stage: str, task: VideoTask, name: str) -> Path:
        return self.state / stage / f"{task.video_id}.{name}.npy"

    def save_array(self, stage: str, task: VideoTask, name: str, array: np.ndarray) -> Path:
        """Store a stage's array for a task (atomically); trusted only through the stage's result file."""
        path = self.array_path(stage, task, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, np.ascontiguousarray(array))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def load_array(self, stage: str, task: VideoTask, name: str) -> np.ndarray:
        return np.load(self.array_path(stage, task, name))

    def write_manifest(self, tasks: Iterable[VideoTask]) -> Path:
        path = self.root / "manifest.jsonl"
        atomic_write_jsonl(path, (t.manifest_row() for t in tasks))
        return path

    def read_manifest(self) -> list[dict[str, Any]]:
        path = self.root / "manifest.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# Files of a run directory that record how the run went rather than what it produced.
RUN_RECORD_FILES = ("report.json", "report.html", "report_files", "run.lock", "run.*-of-*.lock", "vidfast.log")


def output_digests(root: str | os.PathLike[str]) -> dict[str, str]:
    """SHA-256 of every file of a run directory except ``RUN_RECORD_FILES`` (timings, locks), by relative
    path: two runs with the same inputs and configuration must give equal digests, however often they
    were interrupted and resumed. ``manifest.jsonl`` is hashed with each stage's ``cached`` read as
    ``done`` (it records which results a run reused, which is all a resumed run does differently)."""
    import fnmatch
    import hashlib

    root = Path(root)
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or any(fnmatch.fnmatch(rel.parts[0], pat) for pat in RUN_RECORD_FILES):
            continue
        data = path.read_bytes()
        if str(rel) == "manifest.jsonl":
            rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
            for row in rows:
                row["stages"] = {k: "done" if v == "cached" else v for k, v in row.get("stages", {}).items()}
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
        out[str(rel)] = hashlib.sha256(data).hexdigest()
    return out
