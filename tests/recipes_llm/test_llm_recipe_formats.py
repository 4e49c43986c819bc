"""Output formats of the generation recipes when every answer is valid, field for field.

The answers come from a canned engine (SmolLM2 with the tiny token caps the suite can afford rarely
produces a full valid answer); parsing, validation, dedup (real MiniLM), MCQ building and export
are the real code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import vidfast
from vidfast.llm import LLMEngine
from vidfast.llm.types import Completion, LLMRequest
from vidfast.stages.generate import base as llm_base

WORDS_200 = " ".join(["word"] * 200)
CANNED = {
    "summary_qa": {
        "qa": [
            {"Q": "Summarize the video.", "A": "A man opens a red door and walks into a kitchen."},
            {"Q": "Summarize the video.", "A": "A man opens a red door and walks into a kitchen."},
            {"Q": "What is the weather like on Mars?", "A": "Cold, dusty and very thin air."},
        ]
    },
    "description_qa": {
        "qa": [
            {"Q": "What color is the door?", "A": "Red."},
            {"Q": "Where does he go?", "A": "Into the kitchen."},
            {"Q": "Who opens the door?", "A": "A man."},
        ]
    },
    "creative_qa": {"Q": "Write a haiku about it.", "A": "Red door swings open / kitchen light"},
    "detailed_description_qa": {"Q": "Describe the video in detail.", "A": WORDS_200},
    "videochat_description": {"description": "A man opens a red door, then walks into a bright kitchen."},
    "videochat_conversation": {
        "turns": [
            {"q": "What happens first?", "a": "A man opens a door."},
            {"q": "Then?", "a": "He walks into a kitchen."},
            {"q": "Why?", "a": "Probably to cook."},
        ]
    },
    "videochat2_instructions": {"instructions": [f"Instruction number {i}." for i in range(10)]},
    "videochat2_mcq": {
        "question": "What does the man open?",
        "answer": "a red door",
        # 5 candidates: the repeats of the answer and of "a window" are dropped, the first 3 distinct kept
        "distractors": ["a window", "A red door", "a fridge", "a window.", "a chair"],
    },
}


class FormatEngine(LLMEngine):
    name = "canned-format"

    def _complete(self, requests: list[LLMRequest]) -> list[Completion]:
        return [Completion("Here you go: " + json.dumps(CANNED[r.task])) for r in requests]


@pytest.fixture
def canned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(llm_base, "build_engine", lambda *a, **k: FormatEngine(max_retries=0))
    return ["llm.endpoint=canned-format", "runtime.workers=1"]


def test_videochatgpt_formats(canned: list[str], caption_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "vcg"
    result = vidfast.run(
        ["v_demo01.mp4"],
        out,
        recipe="videochatgpt",
        preset="embedded",
        progress=False,
        overrides=[*canned, f"llm.captions={caption_file}", "llm.descriptive=true"],
    )
    qa = json.loads((out / "per_video" / "v_demo01.json").read_text())
    assert len(qa) == 6 and all(set(it) == {"Q", "A"} for it in qa)  # 7 generated, 1 exact duplicate removed
    assert qa[-1] == {"Q": "Write a haiku about it.", "A": "Red door swings open / kitchen light"}
    assert (
        json.loads((out / "descriptive" / "v_demo01.json").read_text()) == CANNED["detailed_description_qa"]
    )
    flat = json.loads((out / "videochatgpt_instruct.json").read_text())
    assert len(flat) == 7 and flat[0] == {"video_id": "v_demo01", "q": qa[0]["Q"], "a": qa[0]["A"]}
    train = json.loads((out / "videochatgpt_train.json").read_text())
    assert train[0] == {
        "id": "v_demo01",
        "video": "v_demo01.pkl",
        "conversations": [
            {"from": "human", "value": qa[0]["Q"] + "\n<video>"},
            {"from": "gpt", "value": qa[0]["A"]},
        ],
    }
    assert train[1]["conversations"][0]["value"] == "<video>\n" + qa[1]["Q"]
    assert result.report["export"]["qa_dedup_removed"] == 1
    assert (out / "failures.jsonl").read_text() == ""


def test_videochat_formats(canned: list[str], caption_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "vc"
    vidfast.run(
        ["v_demo01"],
        out,
        recipe="videochat",
        preset="embedded",
        progress=False,
        overrides=[*canned, f"llm.captions={caption_file}"],
    )
    desc, conv = json.loads((out / "videochat.json").read_text())
    assert set(desc) == {"video", "QA"} and desc["video"] == "v_demo01" and len(desc["QA"]) == 1
    assert desc["QA"][0]["a"] == CANNED["videochat_description"]["description"]
    assert conv["QA"] == CANNED["videochat_conversation"]["turns"]


def test_videochat2_formats(canned: list[str], caption_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "vc2"
    result = vidfast.run(
        ["v_demo01"],
        out,
        recipe="videochat2",
        preset="embedded",
        progress=False,
        overrides=[*canned, f"llm.captions={caption_file}", "llm.mcq_options=3"],
    )
    assert (
        json.loads((out / "instructions.json").read_text())
        == CANNED["videochat2_instructions"]["instructions"]
    )
    (rec,) = json.loads((out / "train.json").read_text())
    (qa,) = rec["QA"]
    assert set(rec) == {"video", "QA"} and set(qa) == {"i", "q", "a"}
    assert re.fullmatch(
        r"Question: What does the man open\?\nOptions:\n\(A\) .+\n\(B\) .+\n\(C\) .+", qa["q"]
    )
    options = sorted(line[4:] for line in qa["q"].split("\n")[2:])
    assert options == ["a fridge", "a red door", "a window"]  # the first mcq_options - 1 distractors
    letter = qa["a"][1]
    assert qa["a"] == f"({letter}) a red door" and f"({letter}) a red door" in qa["q"]
    assert result.report["export"]["instructions_source"] == "llm"


def test_one_generate_call_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    from vidfast.runtime.records import VideoTask
    from vidfast.stages.generate import VideoChatStage

    calls: list[list[str]] = []

    class Counting(FormatEngine):
        def generate(self, requests):  # type: ignore[no-untyped-def]
            calls.append([r.task for r in requests])
            return super().generate(requests)

    monkeypatch.setattr(llm_base, "build_engine", lambda *a, **k: Counting(max_retries=0))
    stage = VideoChatStage(endpoint="counting")
    stage.setup()
    tasks = [VideoTask(v) for v in ("a.mp4", "b.mp4", "c.mp4")]
    for t in tasks:
        t.data["captions"] = {"text": f"caption of {t.video}"}
    stage.process(tasks)
    assert calls == [
        ["videochat_conversation"] * 3 + ["videochat_description"] * 3
    ]  # one call, grouped by prompt
    assert all(len(t.data["videochat_qa"]["conversation"]) == 3 for t in tasks)


def test_rerun_is_free(canned: list[str], tmp_path: Path) -> None:
    caps = tmp_path / "caps.json"
    caps.write_text(json.dumps({"a.mp4": "A cat sleeps.", "b": {"sentences": ["A dog barks."]}}))
    args = {
        "recipe": "videochat",
        "preset": "embedded",
        "progress": False,
        "overrides": [*canned, f"llm.captions={caps}"],
    }
    first = vidfast.run(["a", "b.mp4"], tmp_path / "run", **args)
    assert first.report["videos"]["done"] == 2
    again = vidfast.run(["a", "b.mp4"], tmp_path / "run", **args)
    assert again.report["stages"]["videochat_qa"]["cached"] == 2
    assert len(json.loads((tmp_path / "run" / "videochat.json").read_text())) == 4


def test_cli_captions_file_stands_for_missing_inputs(canned: list[str], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from vidfast.cli import main

    caps = tmp_path / "caps.json"
    caps.write_text(json.dumps({"a.mp4": "A cat sleeps.", "b": {"sentences": ["A dog barks."]}}))
    sets = [arg for item in canned for arg in ("--set", item)]
    res = CliRunner().invoke(main, ["run", "-o", str(tmp_path / "run"), "--recipe", "videochat", "--preset",
                                    "embedded", "--captions", str(caps), "--no-progress", *sets])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in (tmp_path / "run" / "manifest.jsonl").read_text().splitlines()]
    assert sorted(r["video"] for r in rows) == ["a.mp4", "b"] and {r["status"] for r in rows} == {"done"}
    # without INPUTS and without a file that could stand for them: a clear error naming the fix
    res = CliRunner().invoke(main, ["run", "-o", str(tmp_path / "run2"), "--recipe", "videochat", "--no-progress"])
    assert res.exit_code == 2 and "no INPUTS" in res.output and "--captions FILE" in res.output
