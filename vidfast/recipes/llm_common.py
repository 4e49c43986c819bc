"""Helpers shared by the LLM recipes: engine settings from the config, the captions stage, the
per-video output id, and the failures file."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from vidfast.captions import SIDECAR, file_digest, task_name
from vidfast.config import RunConfig
from vidfast.errors import ConfigError
from vidfast.inputs import InputVideo, expand_inputs
from vidfast.runtime.records import VideoTask
from vidfast.runtime.store import atomic_write_jsonl
from vidfast.stages.generate import CaptionsStage


def engine_fields(cfg: RunConfig) -> dict[str, Any]:
    """The ``LLMStage`` fields every LLM recipe takes from ``models`` and ``llm``."""
    m, llm = cfg.models, cfg.llm
    return {
        "backend": llm.backend,
        "model": m.llm,
        "device": "cpu" if m.device == "cpu" else "auto",
        "endpoint": llm.endpoint,
        "max_retries": llm.max_retries,
        "max_tokens": llm.max_tokens,
        "temperature": llm.temperature,
        "seed": llm.seed,
        "engine_batch": llm.batch_size,
        "videos_per_batch": llm.videos_per_batch,
    }


def captions_stage(cfg: RunConfig, optional: bool = False) -> CaptionsStage:
    """The stage reading human captions: ``llm.captions`` (a JSON file) or each video's sidecar.
    ``optional``: a video without a caption goes on without one (another source stands in)."""
    source = cfg.llm.captions or SIDECAR
    return CaptionsStage(captions=source, digest=file_digest(source), optional=optional)


def output_id(task: VideoTask) -> str:
    """The id a video's outputs are named by: its file name without a known video extension."""
    return task_name(task.video)


def write_failures(ctx_out: Any, tasks: list[VideoTask], stage: str | Sequence[str]) -> tuple[str, int]:
    """``failures.jsonl``: every LLM request of ``stage`` (one or several) that stayed invalid (with raw
    text) and every failed video."""
    stages = [stage] if isinstance(stage, str) else list(stage)
    rows: list[dict[str, Any]] = []
    for t in tasks:
        if t.failed:
            rows.append({"video_id": output_id(t), "video": t.video, **t.error.to_dict()})
            continue
        for name in stages:
            for f in (t.data.get(name) or {}).get("failures", []):
                rows.append({"video_id": output_id(t), "video": t.video, "stage": name, **f})
    atomic_write_jsonl(ctx_out / "failures.jsonl", rows)
    return "failures.jsonl", len(rows)


def done(tasks: list[VideoTask], stage: str) -> list[VideoTask]:
    """Tasks with a result of ``stage``."""
    return [t for t in tasks if not t.failed and stage in t.data]


def _same_file(a: str, b: str | None) -> bool:
    return bool(b) and b != SIDECAR and os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)


def _default_inputs(inputs: Sequence[str], captions: str | None, predictions: str | None) -> Sequence[str]:
    """``inputs``, or with none the predictions file (else the captions file) standing for them."""
    if inputs:
        return inputs
    named = predictions or (captions if captions and captions != SIDECAR else None)
    if named is None:
        raise ConfigError("no INPUTS: name video files, directories or list files, or give "
                          "--captions FILE / --predictions FILE to run over the ids they hold")
    return [named]


def expand_llm_inputs(
    inputs: list[str] | tuple[str, ...], captions: str | None, predictions: str | None
) -> list[str]:
    """Run INPUTS with a caption or predictions file named as an input replaced by its ids / record keys.

    This lets text-only runs name no videos: ``vidfast run caps.json --captions caps.json``; each id
    becomes a task whose ``video`` is the id (no file needed by the LLM recipes). With no INPUTS at
    all, the predictions file (else the captions file) stands for them.
    """
    from vidfast.captions import caption_ids
    from vidfast.stages.generate.judge import prediction_keys

    inputs = _default_inputs(inputs, captions, predictions)
    out: list[str] = []
    for item in inputs:
        if _same_file(item, predictions):
            out += prediction_keys(str(predictions))
        elif _same_file(item, captions):
            out += caption_ids(str(captions))
        else:
            out.append(item)
    return out


def expand_run_inputs(
    inputs: list[str] | tuple[str, ...], captions: str | None, predictions: str | None
) -> list[InputVideo]:
    """The run's videos: ``expand_inputs`` of every input, except that a caption or predictions file
    named as an input stands for its ids, taken verbatim. An id is never treated as a path, so ids such
    as ``..``, ``/tmp`` or ``list.txt`` name no directory to search and no list file to read."""
    from vidfast.captions import caption_ids
    from vidfast.stages.generate.judge import prediction_keys

    inputs = _default_inputs(inputs, captions, predictions)
    out: list[InputVideo] = []
    seen: set[tuple[str, str]] = set()
    for item in inputs:
        if _same_file(item, predictions) or _same_file(item, captions):
            ids = prediction_keys(str(predictions)) if _same_file(item, predictions) else caption_ids(str(captions))
            found = [(("id", i), InputVideo(i, i)) for i in ids]
        else:
            found = [(("path", os.path.abspath(v.path)), v) for v in expand_inputs([item])]
        for key, video in found:
            if key not in seen:
                seen.add(key)
                out.append(video)
    return out
