"""The ``videochat2`` recipe: VideoChat2-IT multiple-choice records from human captions.

Outputs: ``train.json`` (``[{"video","QA":[{"i","q","a"}]}]``; ``q`` in MVBench form
``Question: ...\\nOptions:\\n(A) ...``, ``a`` = ``(X) <correct option>``, the correct option at a
seeded random letter, ``i`` pre-sampled per example from the instructions) and ``instructions.json``
(the task instructions, generated once per run by the LLM; when that answer stays invalid a built-in
list is used and the failure recorded). Distractors: drawn from ``llm.mcq_labels`` when given,
else written by the LLM; ``llm.mcq_options`` options per question. A video whose MCQ request
failed (or gave too few distinct options) fails with the raw text in the manifest and
``failures.jsonl``.
"""

from __future__ import annotations

import json

from vidfast.config import RunConfig
from vidfast.recipes.base import ExportContext, Recipe
from vidfast.recipes.llm_common import captions_stage, done, engine_fields, write_failures
from vidfast.runtime.stage import Stage
from vidfast.runtime.store import atomic_write_json
from vidfast.stages.generate import VideoChat2MCQStage
from vidfast.stages.generate.videochat2 import INSTRUCTIONS_FILE, read_labels

STAGE = VideoChat2MCQStage.name


def build_stages(cfg: RunConfig) -> list[Stage]:
    labels = read_labels(cfg.llm.mcq_labels) if cfg.llm.mcq_labels else []
    return [
        captions_stage(cfg),
        VideoChat2MCQStage(
            **engine_fields(cfg),
            n_options=cfg.llm.mcq_options,
            labels=labels,
            task_description=cfg.llm.mcq_task,
        ),
    ]


def export(ctx: ExportContext) -> dict[str, str]:
    records = [{"video": t.video, "QA": t.data[STAGE]["QA"]} for t in done(ctx.tasks, STAGE)]
    atomic_write_json(ctx.out_dir / "train.json", records)
    path = ctx.out_dir / INSTRUCTIONS_FILE
    doc = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    atomic_write_json(ctx.out_dir / "instructions.json", doc["instructions"] if doc else [])
    failures, n_failed = write_failures(ctx.out_dir, ctx.tasks, STAGE)
    ctx.stats.update(
        {
            "records": len(records),
            "failures": n_failed,
            "instructions_source": doc["source"] if doc else None,
            "instructions_failure": doc["failure"] if doc else None,
        }
    )
    return {"train": "train.json", "instructions": "instructions.json", "failures": failures}


RECIPE = Recipe(
    "videochat2", "VideoChat2-IT multiple-choice records and task instructions", build_stages, export
)
