"""The ``videochatgpt`` recipe: Video-ChatGPT human-assisted instruction data from human captions.

Stages: captions (``--captions FILE`` or each video's sidecar) → one batched LLM stage writing, per
video, 3 summary + 3 description + 1 creative QA and one 150-300-word detailed description, with
near-duplicate QA removed (MiniLM). Outputs (original field names):

- ``per_video/<id>.json``: the video's ``[{"Q","A"}]`` (7 when every call succeeded and none was a
  near-duplicate);
- ``descriptive/<id>.json``: one ``{"Q","A"}``;
- ``videochatgpt_instruct.json``: the flat ``[{"video_id","q","a"}]`` (QA first, then the
  descriptive item, per video);
- ``videochatgpt_train.json``: LLaVA-style ``[{"id","video":"<id>.pkl","conversations":[...]}]``,
  ``<video>`` after the question for even records and before it for odd ones, as the converter;
- ``failures.jsonl``: every request still invalid after the retries, with its raw text.

A failed request is recorded and counted; a video fails only when all of its requests failed.
Fixes: captions looked up by their real key (the original's stripped-key lookup matched nothing),
answers validated (schema, exact item count, 150-300 words) with bounded retries instead of an
endless sleep-retry loop, near-duplicates removed, the flattening the repo lacked is written here.
The semi-automatic path (frame captions + tags + regions → dense summary) will feed the same QA
stage through its ``source``/``field`` once the vision stages exist.
"""

from __future__ import annotations

from typing import Any

from vidfast.config import RunConfig
from vidfast.recipes.base import ExportContext, Recipe
from vidfast.recipes.llm_common import captions_stage, done, engine_fields, output_id, write_failures
from vidfast.runtime.stage import Stage
from vidfast.runtime.store import atomic_write_json
from vidfast.stages.generate import VideoChatGPTQAStage

STAGE = VideoChatGPTQAStage.name


def build_stages(cfg: RunConfig) -> list[Stage]:
    return [
        captions_stage(cfg),
        VideoChatGPTQAStage(
            **engine_fields(cfg),
            descriptive=cfg.llm.descriptive,
            dedup=cfg.llm.dedup,
            dedup_threshold=cfg.llm.dedup_threshold,
            text_encoder=cfg.models.text_encoder,
        ),
    ]


def training_records(flat: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The converter's LLaVA-style records: one per QA, ``<video>`` alternating after/before the question."""
    out = []
    for i, rec in enumerate(flat):
        human = f"{rec['q']}\n<video>" if i % 2 == 0 else f"<video>\n{rec['q']}"
        out.append(
            {
                "id": rec["video_id"],
                "video": f"{rec['video_id']}.pkl",
                "conversations": [{"from": "human", "value": human}, {"from": "gpt", "value": rec["a"]}],
            }
        )
    return out


def export(ctx: ExportContext) -> dict[str, str]:
    flat: list[dict[str, str]] = []
    n_desc = removed = generated = 0
    for task in done(ctx.tasks, STAGE):
        vid, res = output_id(task), task.data[STAGE]
        atomic_write_json(ctx.out_dir / "per_video" / f"{vid}.json", res["qa"])
        flat += [{"video_id": vid, "q": it["Q"], "a": it["A"]} for it in res["qa"]]
        if res["descriptive"] is not None:
            atomic_write_json(ctx.out_dir / "descriptive" / f"{vid}.json", res["descriptive"])
            flat.append({"video_id": vid, "q": res["descriptive"]["Q"], "a": res["descriptive"]["A"]})
            n_desc += 1
        removed += res["dedup_removed"]
        generated += res["qa_generated"]
    atomic_write_json(ctx.out_dir / "videochatgpt_instruct.json", flat)
    atomic_write_json(ctx.out_dir / "videochatgpt_train.json", training_records(flat))
    failures, n_failed = write_failures(ctx.out_dir, ctx.tasks, STAGE)
    ctx.stats.update(
        {
            "qa_generated": generated,
            "qa_dedup_removed": removed,
            "qa_kept": len(flat) - n_desc,
            "descriptive": n_desc,
            "instruct_records": len(flat),
            "failures": n_failed,
        }
    )
    return {
        "per_video": "per_video/",
        "descriptive": "descriptive/",
        "instruct": "videochatgpt_instruct.json",
        "train": "videochatgpt_train.json",
        "failures": failures,
    }


RECIPE = Recipe(
    "videochatgpt",
    "Video-ChatGPT QA (summary, description, creative, detailed) from human captions",
    build_stages,
    export,
)
