"""InternVid-G files: the original tool's intermediate files (for step-by-step comparison) and names.

File names and field names follow the original (seed-spec §2.2–2.7); values come from vidfast's
stages. ``video_fname`` is the video's path relative to the directory it was found in (or its file
name when it was named directly), as the original's paths relative to its video folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from vidfast.runtime.records import VideoTask
from vidfast.runtime.store import RunStore, atomic_write_jsonl


def video_name(task: VideoTask) -> str:
    """The video's name as written in the outputs."""
    if task.source and os.path.isdir(task.source):
        return os.path.relpath(task.video, task.source)
    return os.path.basename(task.video)


def _matrix(store: RunStore, task: VideoTask, name: str, decimals: int | None) -> list[list[float]]:
    m = store.load_array("clip", task, name).astype(np.float64)
    return (np.round(m, decimals) if decimals is not None else m).tolist()


def write_intermediates(out: Path, store: RunStore, tasks: list[VideoTask], filter_rows: list[dict[str, Any]],
                        selected: list[dict[str, Any]]) -> dict[str, str]:
    """scenes.jsonl, scenes_similarity.jsonl, scenes-merged.jsonl, scenes_merged_similarity.jsonl,
    captions.jsonl, filtered.jsonl (with clip_sim) and selected.jsonl, under ``out/intermediates``."""
    d = out / "intermediates"
    files = {
        "scenes.jsonl": [{"video_fname": video_name(t), "scenes": t.data["shots"]["scenes"]} for t in tasks],
        "scenes_similarity.jsonl": [{"video_fname": video_name(t), "similarity_matrix": _matrix(store, t, "similarity", 3)}
                                    for t in tasks],
        "scenes-merged.jsonl": [{"video_fname": video_name(t), "scenes": t.data["clip"]["merged_scenes"]} for t in tasks],
        "scenes_merged_similarity.jsonl": [
            {"video_fname": video_name(t), "similarity_matrix": _matrix(store, t, "merged_similarity", None)} for t in tasks
        ],
        "captions.jsonl": [{"video_fname": video_name(t), "start_sec": s["start_sec"], "end_sec": s["end_sec"],
                            "captions": s["captions"]} for t in tasks for s in t.data["captions"]["segments"]],
        "filtered.jsonl": filter_rows,
        "selected.jsonl": selected,
    }
    for name, rows in files.items():
        atomic_write_jsonl(d / name, rows)
    return {name: f"intermediates/{name}" for name in files}
