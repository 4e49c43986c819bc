"""Judge parsing and aggregation fixes, with a canned engine (this is about parsing, not language)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import vidfast
from vidfast.errors import InputError
from vidfast.llm import LLMEngine
from vidfast.llm.types import Completion, LLMRequest
from vidfast.recipes.judge import aggregate, verdict
from vidfast.stages.generate import base as llm_base
from vidfast.stages.generate.judge import normalise_record, prediction_keys, read_predictions


class CannedEngine(LLMEngine):
    """Answers by (criterion, prediction text): canned raw texts, validated by the real engine logic."""

    name = "canned"

    def __init__(self, answers: dict[tuple[str, str], str], max_retries: int = 0) -> None:
        super().__init__(max_retries=max_retries)
        self.answers = answers

    def _complete(self, requests: list[LLMRequest]) -> list[Completion]:
        out = []
        for r in requests:
            pred = next(
                a
                for (task, p), a in self.answers.items()
                if task == r.task and p in r.messages[-1]["content"]
            )
            out.append(Completion(pred))
        return out


PREDS = [
    {"video_name": "v1", "Q": "What happens?", "A": "A man cooks.", "pred": "PRED-A"},
    {"video_name": "v1", "Q": "Then?", "A": "He eats.", "pred": "PRED-B"},
    {
        "video_name": "v2",
        "Q1": "Who?",
        "Q2": "Which person?",
        "A": "A man.",
        "pred1": "PRED-C1",
        "pred2": "PRED-C2",
    },
    {"id": "v3", "question": "Is it day?", "answer": "yes", "pred": "PRED-Z1"},
    {"id": "v3", "question": "Color?", "answer": "red", "pred": "PRED-Z2"},
    {"id": "v4", "question": "Count?", "answer": "two", "pred": "PRED-Z3"},
    {"id": "v5", "question": "Where?", "answer": "park", "pred": "PRED-Z4"},
]
ANSWERS = {
    ("judge_correctness", "PRED-A"): '{"score": 4.8}',  # float kept, not truncated to 4
    ("judge_correctness", "PRED-B"): 'Sure! {"score": 3}',
    ("judge_detail_orientation", "PRED-A"): '{"score": 2}',
    ("judge_detail_orientation", "PRED-B"): '{"grade": 5}',  # missing key: a recorded failure
    ("judge_context", "PRED-A"): '{"score": 5}',
    ("judge_context", "PRED-B"): "no json at all",
    ("judge_consistency", "PRED-C1"): '{"score": 1}',
    ("judge_zero_shot", "PRED-Z1"): '{"pred": "yes", "score": 5}',
    ("judge_zero_shot", "PRED-Z2"): '{"pred": "No.", "score": 1}',
    ("judge_zero_shot", "PRED-Z3"): '{"pred": "not sure", "score": 2}',  # the original counted this as "no"
    ("judge_zero_shot", "PRED-Z4"): '{"pred": "Yes, mostly", "score": 4}',
}


def test_normalise_and_keys(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(PREDS))
    assert prediction_keys(str(path)) == ["v1_0", "v1_1", "v2_0", "v3_0", "v3_1", "v4_0", "v5_0"]
    recs = read_predictions(str(path))
    assert recs["v2_0"]["kind"] == "consistency" and recs["v3_1"]["kind"] == "zero_shot"
    assert recs["v1_1"]["qa_set"] == {"q": "Then?", "a": "He eats.", "pred": "PRED-B"}
    with pytest.raises(InputError, match="needs Q|question"):
        normalise_record({"video_name": "x", "Q": "q"}, "here")


def test_verdicts() -> None:
    assert [verdict({"pred": p}) for p in ("yes", "No.", "YES!", "not sure", "none", "", "maybe yes")] == [
        "yes",
        "no",
        "yes",
        "other",
        "other",
        "other",
        "other",
    ]
    assert verdict({}) == "other" and verdict("yes") == "other"


def test_aggregate_pure() -> None:
    items = [
        {"responses": {"correctness": {"score": 4.8}, "context": {"score": "3"}}, "failures": []},
        {
            "responses": {"correctness": {"score": 2}, "context": {"nope": 1}},
            "failures": [{"criterion": "detail_orientation"}],
        },
    ]
    out = aggregate(items)
    assert out["criteria"]["correctness"] == {"average": pytest.approx(3.4), "count": 2, "failed": 0}
    assert out["criteria"]["context"] == {"average": 3.0, "count": 1, "failed": 1}
    assert out["criteria"]["detail_orientation"] == {"average": None, "count": 0, "failed": 1}
    assert "zero_shot" not in out


def test_judge_recipe_with_canned_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(PREDS))
    monkeypatch.setattr(llm_base, "build_engine", lambda *a, **k: CannedEngine(ANSWERS))
    out = tmp_path / "run"
    stale = out / "judge" / "correctness" / "old_0.json"  # a file from an earlier run: never aggregated
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps([{"score": 0}, {"q": "", "a": "", "pred": ""}]))
    keys = prediction_keys(str(preds)) + ["v9_0"]  # v9_0 names no record: a failed task, not a crash
    result = vidfast.run(
        keys,
        out,
        recipe="judge",
        preset="embedded",
        progress=False,
        overrides=[f"llm.predictions={preds}", "llm.endpoint=canned-judge"],
    )
    res = json.loads((out / "judge_results.json").read_text())
    crit = res["criteria"]
    assert res["items"] == 7
    assert crit["correctness"] == {"average": pytest.approx((4.8 + 3) / 2), "count": 2, "failed": 0}
    assert crit["detail_orientation"] == {"average": 2.0, "count": 1, "failed": 1}
    assert crit["context"] == {"average": 5.0, "count": 1, "failed": 1}
    assert crit["consistency"] == {"average": 1.0, "count": 1, "failed": 0}
    assert res["zero_shot"] == {
        "accuracy": pytest.approx(2 / 3),
        "yes": 2,
        "no": 1,
        "other": 1,
        "score_mean": 3.0,
        "failed": 0,
    }
    assert json.loads((out / "judge" / "correctness" / "v1_0.json").read_text()) == [
        {"score": 4.8},
        {"q": "What happens?", "a": "A man cooks.", "pred": "PRED-A"},
    ]
    combined = json.loads((out / "judge" / "consistency.json").read_text())
    assert combined == {
        "v2_0": [
            {"score": 1},
            {"q1": "Who?", "q2": "Which person?", "a": "A man.", "pred1": "PRED-C1", "pred2": "PRED-C2"},
        ]
    }
    zs = json.loads((out / "judge" / "zero_shot" / "v4_0.json").read_text())
    assert zs == [{"pred": "not sure", "score": 2}, {"q": "Count?", "a": "two", "pred": "PRED-Z3"}]
    failures = [json.loads(ln) for ln in (out / "failures.jsonl").read_text().splitlines()]
    raw = {(f.get("criterion"), f["video_id"]): f for f in failures}
    assert raw[("detail_orientation", "v1_1")]["raw"] == '{"grade": 5}'
    assert raw[("context", "v1_1")]["raw"] == "no json at all"
    assert raw[(None, "v9_0")]["reason"] == "NoPrediction"
    assert result.report["videos"] == {"total": 8, "done": 7, "failed": 1, "skipped": 0}


def test_cli_predictions_file_as_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from vidfast.cli import main

    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(PREDS[:2]))
    monkeypatch.setattr(llm_base, "build_engine", lambda *a, **k: CannedEngine(ANSWERS))
    out = tmp_path / "cli"
    res = CliRunner().invoke(
        main,
        [
            "run",
            str(preds),
            "-o",
            str(out),
            "--recipe",
            "judge",
            "--preset",
            "embedded",
            "--predictions",
            str(preds),
            "--set",
            "llm.endpoint=canned-cli",
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    results = json.loads((out / "judge_results.json").read_text())
    assert results["items"] == 2 and results["criteria"]["correctness"]["count"] == 2
