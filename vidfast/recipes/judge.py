"""The ``judge`` recipe: Video-ChatGPT's LLM-judge evaluation with a local model, bugs fixed.

Tasks are prediction records, not videos: each run INPUT is a record key ``{video_name}_{k}``
(``vidfast run preds.json --recipe judge --predictions preds.json`` expands the file into its keys;
from Python use ``prediction_keys(path)``). Criteria per record: see ``JudgeStage``.

Outputs:

- ``judge/<criterion>/<key>.json``: the original per-item ``[response_dict, qa_set]``;
- ``judge/<criterion>.json``: the combined ``{key: [response_dict, qa_set]}``;
- ``judge_results.json``: per criterion ``average`` (0-5), ``count``, ``failed``; zero-shot
  ``accuracy``, ``yes``/``no``/``other`` and ``score_mean``;
- ``failures.jsonl``: judgments still invalid after the retries, with raw text.

Aggregation fixes: only this run's records are aggregated (the original averaged every ``.json``
in the folder, stale files included); scores are kept as numbers (no ``int()`` truncation of 4.8);
a response without a usable score is a counted failure, not a crash; a zero-shot verdict that is
neither yes nor no is counted as ``other`` and reported (the original's substring test counted
"not sure" as no and silently dropped the rest from the denominator).
"""

from __future__ import annotations

import re
from typing import Any

from vidfast.captions import file_digest
from vidfast.config import RunConfig
from vidfast.recipes.base import ExportContext, Recipe
from vidfast.recipes.llm_common import done, engine_fields, write_failures
from vidfast.runtime.records import safe_file_stem
from vidfast.runtime.stage import Stage
from vidfast.runtime.store import atomic_write_json
from vidfast.stages.generate import JudgeStage
from vidfast.stages.generate.judge import CRITERIA

STAGE = JudgeStage.name
_VERDICT = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)


def build_stages(cfg: RunConfig) -> list[Stage]:
    return [
        JudgeStage(
            **engine_fields(cfg),
            predictions=cfg.llm.predictions or "",
            digest=file_digest(cfg.llm.predictions),
            criteria=cfg.llm.judge_criteria,
        )
    ]


def score_of(response: Any) -> float | None:
    """The numeric score of a judge response, or None when it has none (a counted failure)."""
    if not isinstance(response, dict):
        return None
    score = response.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float, str)):
        return None
    try:
        return float(score)
    except ValueError:
        return None


def verdict(response: Any) -> str:
    """``yes``, ``no`` or ``other`` for a zero-shot response's ``pred``."""
    match = _VERDICT.match(str(response.get("pred", "")) if isinstance(response, dict) else "")
    return match.group(1).lower() if match else "other"


def aggregate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """``judge_results.json`` from this run's judge results (``JudgeStage`` outputs)."""
    scores: dict[str, list[float]] = {c: [] for c in CRITERIA}
    failed = dict.fromkeys(CRITERIA, 0)
    verdicts = {"yes": 0, "no": 0, "other": 0}
    for item in items:
        for f in item["failures"]:
            failed[f["criterion"]] += 1
        for crit, resp in item["responses"].items():
            s = score_of(resp)
            if s is None:
                failed[crit] += 1
            else:
                scores[crit].append(s)
            if crit == "zero_shot":
                verdicts[verdict(resp)] += 1
    out: dict[str, Any] = {"items": len(items), "criteria": {}}
    for crit in CRITERIA:
        if scores[crit] or failed[crit]:
            vals = scores[crit]
            out["criteria"][crit] = {
                "average": sum(vals) / len(vals) if vals else None,
                "count": len(vals),
                "failed": failed[crit],
            }
    if any(verdicts.values()) or "zero_shot" in out["criteria"]:
        decided = verdicts["yes"] + verdicts["no"]
        zs = out["criteria"].get("zero_shot", {})
        out["zero_shot"] = {
            "accuracy": verdicts["yes"] / decided if decided else None,
            **verdicts,
            "score_mean": zs.get("average"),
            "failed": zs.get("failed", 0),
        }
    return out


def export(ctx: ExportContext) -> dict[str, str]:
    items = [t.data[STAGE] for t in done(ctx.tasks, STAGE)]
    combined: dict[str, dict[str, Any]] = {}
    for item in items:
        for crit, resp in item["responses"].items():
            pair = [resp, item["qa_set"]]
            atomic_write_json(ctx.out_dir / "judge" / crit / f"{safe_file_stem(item['key'])}.json", pair)
            combined.setdefault(crit, {})[item["key"]] = pair
    files = {}
    for crit, doc in combined.items():
        atomic_write_json(ctx.out_dir / "judge" / f"{crit}.json", doc)
        files[f"judge_{crit}"] = f"judge/{crit}.json"
    results = aggregate(items)
    atomic_write_json(ctx.out_dir / "judge_results.json", results)
    failures, n_failed = write_failures(ctx.out_dir, ctx.tasks, STAGE)
    ctx.stats.update({"records": len(items), "failures": n_failed})
    return {**files, "results": "judge_results.json", "failures": failures}


RECIPE = Recipe(
    "judge", "Video-ChatGPT LLM judge: 5 criteria (0-5) and zero-shot QA accuracy", build_stages, export
)
