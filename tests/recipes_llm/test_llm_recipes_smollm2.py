"""Every LLM recipe end to end through ``vidfast.run`` with the real SmolLM2 (transformers, CPU).

Answers are capped at a few tokens to fit a shared 2-core box, so most requests end invalid: the
tests check that the run completes, writes every output with the original field names and item
counts for what is valid, and records each invalid answer with its raw text. The canned-engine
tests in ``test_llm_recipe_formats.py`` cover the valid-answer paths field for field.
"""

from __future__ import annotations

import json
from pathlib import Path

import vidfast
from vidfast.recipes.llm_common import expand_llm_inputs


def _failures(out: Path) -> list[dict]:
    return [json.loads(ln) for ln in (out / "failures.jsonl").read_text().splitlines()]


def _check_failures(out: Path, report: dict) -> None:
    for f in _failures(out):
        assert f["video_id"]
        if "task" in f:  # a request still invalid after the retries: raw text kept
            assert set(f) >= {"task", "error", "raw", "attempts"} and isinstance(f["raw"], str)
        else:  # the whole video failed: the manifest reason and message carry the raw text
            assert f["reason"] == "LLMInvalid" and "raw:" in f["message"]
    assert report["stages"]  # throughput counted


def test_videochatgpt_from_caption_file(smollm2_run: list[str], caption_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "vcg"
    inputs = expand_llm_inputs([str(caption_file)], str(caption_file), None)  # the file's ids are the tasks
    result = vidfast.run(
        inputs,
        out,
        recipe="videochatgpt",
        preset="embedded",
        progress=False,
        overrides=[*smollm2_run, f"llm.captions={caption_file}"],
    )
    assert result.report["videos"]["total"] == 1
    flat = json.loads((out / "videochatgpt_instruct.json").read_text())
    train = json.loads((out / "videochatgpt_train.json").read_text())
    assert all(set(r) == {"video_id", "q", "a"} and r["video_id"] == "v_demo01" for r in flat)
    assert len(train) == len(flat)
    for i, rec in enumerate(train):
        assert set(rec) == {"id", "video", "conversations"} and rec["video"] == "v_demo01.pkl"
        assert rec["conversations"][0]["value"].endswith("\n<video>") == (i % 2 == 0)
    per_video = out / "per_video" / "v_demo01.json"
    if per_video.exists():
        qa = json.loads(per_video.read_text())
        assert len(qa) <= 7 and all(set(it) == {"Q", "A"} for it in qa)
    stats = result.report["export"]
    assert stats["instruct_records"] == len(flat)
    assert (
        result.report["stages"]["videochatgpt_qa"]["counters"]["llm_requests"] == 3
    )  # descriptive off in embedded
    _check_failures(out, result.report)


def test_videochat_from_sidecar(smollm2_run: list[str], synth_h264, tmp_path: Path) -> None:
    out = tmp_path / "vc"
    result = vidfast.run(
        [str(synth_h264.path)],
        out,
        recipe="videochat",
        preset="embedded",
        progress=False,
        overrides=smollm2_run,
    )
    records = json.loads((out / "videochat.json").read_text())
    for rec in records:
        assert set(rec) == {"video", "QA"} and rec["video"] == str(synth_h264.path)
        assert all(set(t) == {"q", "a"} for t in rec["QA"]) and len(rec["QA"]) in (1, 3)
    assert result.report["stages"]["captions"]["ok"] == 1  # the sidecar's descriptions were read
    _check_failures(out, result.report)


def test_videochat2_with_labels(smollm2_run: list[str], caption_file: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("cooking\nrunning\nswimming\nreading\n")
    out = tmp_path / "vc2"
    result = vidfast.run(
        ["v_demo01"],
        out,
        recipe="videochat2",
        preset="embedded",
        progress=False,
        overrides=[*smollm2_run, f"llm.captions={caption_file}", f"llm.mcq_labels={labels}"],
    )
    instructions = json.loads((out / "instructions.json").read_text())
    assert (
        isinstance(instructions, list)
        and len(instructions) == 10
        and all(isinstance(s, str) for s in instructions)
    )
    assert result.report["export"]["instructions_source"] in ("llm", "fallback")
    if result.report["export"]["instructions_source"] == "fallback":
        assert result.report["export"]["instructions_failure"]["raw"] is not None
    for rec in json.loads((out / "train.json").read_text()):
        (qa,) = rec["QA"]
        assert set(qa) == {"i", "q", "a"} and qa["q"].startswith("Question: ") and qa["i"] in instructions
    _check_failures(out, result.report)


def test_judge_zero_shot(smollm2_run: list[str], tmp_path: Path) -> None:
    preds = tmp_path / "preds.json"
    preds.write_text(
        json.dumps(
            [{"id": "v_1", "question": "What color is the car?", "answer": "red", "pred": "The car is red."}]
        )
    )
    out = tmp_path / "judge"
    inputs = expand_llm_inputs([str(preds)], None, str(preds))
    result = vidfast.run(
        inputs,
        out,
        recipe="judge",
        preset="embedded",
        progress=False,
        overrides=[*smollm2_run, f"llm.predictions={preds}", "llm.max_tokens=24"],
    )
    res = json.loads((out / "judge_results.json").read_text())
    zs = res["criteria"]["zero_shot"]
    assert res["items"] == 1 and zs["count"] + zs["failed"] == 1
    if zs["count"]:
        item = json.loads((out / "judge" / "zero_shot" / "v_1_0.json").read_text())
        assert set(item[0]) == {"pred", "score"} and item[1] == {
            "q": "What color is the car?",
            "a": "red",
            "pred": "The car is red.",
        }
    _check_failures(out, result.report)
