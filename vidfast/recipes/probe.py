"""The ``probe`` recipe: probe and decode-check every input video.

Outputs: ``videos.jsonl`` (one row per readable video: probe facts and decode statistics) and
``quarantine.jsonl`` (one row per video that could not be used, with the stage and reason).
"""

from __future__ import annotations

from vidfast.config import RunConfig
from vidfast.recipes.base import ExportContext, Recipe
from vidfast.runtime.stage import Stage
from vidfast.runtime.store import atomic_write_jsonl
from vidfast.stages.decode import DecodeCheckStage, ProbeStage


def build_stages(cfg: RunConfig) -> list[Stage]:
    stages: list[Stage] = [ProbeStage(count_frames=cfg.probe.count_frames)]
    if cfg.probe.decode_check:
        stages.append(DecodeCheckStage(check_size=cfg.probe.check_size, threads=cfg.decode.threads))
    return stages


def export(ctx: ExportContext) -> dict[str, str]:
    videos, quarantine = [], []
    for task in ctx.tasks:
        if task.failed:
            quarantine.append({"video": task.video, **task.error.to_dict()})
        else:
            videos.append({"video": task.video, "video_id": task.video_id, **task.data.get("probe", {}),
                           "decode": task.data.get("decode_check")})
    atomic_write_jsonl(ctx.out_dir / "videos.jsonl", videos)
    atomic_write_jsonl(ctx.out_dir / "quarantine.jsonl", quarantine)
    return {"videos": "videos.jsonl", "quarantine": "quarantine.jsonl"}


RECIPE = Recipe("probe", "probe and decode-check every input video", build_stages, export)
