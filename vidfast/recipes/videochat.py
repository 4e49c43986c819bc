"""The ``videochat`` recipe: VideoChat v1 instruction data from perception text (human captions now).

Per video two records in ``videochat.json`` (``[{"video","QA":[{"q","a"}]}]``, the
``videochat_instruct_11k`` layout): a detailed description (single turn, ``q`` drawn - seeded per
video - from a pool of describe-the-video instructions) and a 3-turn conversation. ``video`` is the
input as given. Requests still invalid after the retries go to ``failures.jsonl`` with raw text;
a video fails only when both failed. The original's prompts were never released; ours are in
``prompts/videochat_*.yaml``.
"""

from __future__ import annotations

from vidfast.config import RunConfig
from vidfast.recipes.base import ExportContext, Recipe
from vidfast.recipes.llm_common import captions_stage, done, engine_fields, write_failures
from vidfast.runtime.stage import Stage
from vidfast.runtime.store import atomic_write_json
from vidfast.stages.generate import VideoChatStage

STAGE = VideoChatStage.name


def build_stages(cfg: RunConfig) -> list[Stage]:
    return [captions_stage(cfg), VideoChatStage(**engine_fields(cfg))]


def export(ctx: ExportContext) -> dict[str, str]:
    records, n_desc, n_conv = [], 0, 0
    for task in done(ctx.tasks, STAGE):
        res = task.data[STAGE]
        if res["description"] is not None:
            records.append({"video": task.video, "QA": [res["description"]]})
            n_desc += 1
        if res["conversation"] is not None:
            records.append({"video": task.video, "QA": res["conversation"]})
            n_conv += 1
    atomic_write_json(ctx.out_dir / "videochat.json", records)
    failures, n_failed = write_failures(ctx.out_dir, ctx.tasks, STAGE)
    ctx.stats.update({"descriptions": n_desc, "conversations": n_conv, "failures": n_failed})
    return {"videochat": "videochat.json", "failures": failures}


RECIPE = Recipe(
    "videochat", "VideoChat v1: detailed descriptions and multi-turn conversations", build_stages, export
)
