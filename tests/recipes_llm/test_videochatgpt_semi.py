"""The videochatgpt recipe's semi-automatic path end to end: key frames, BLIP-2 frame captions, CLIP
zero-shot tags, OWLv2 + BLIP-2 region captions (the embedded preset: EfficientNet-Lite0 in the CLIP and
BLIP-2 roles, a tiny random OWLv2), tag filter, dense summary, QA.

``test_semi_automatic_with_smollm2`` is the real run (SmolLM2, token caps the 2-core box affords, so the
summary is often invalid and then recorded with its raw text). The canned-engine tests fix the LLM's
answers to check, field for field, what reaches each prompt and what is written, with the vision
stages real.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

import vidfast
from vidfast.llm import LLMEngine
from vidfast.llm.types import Completion, LLMRequest
from vidfast.semiauto import grit_string, parse_grit, vocabulary
from vidfast.stages.generate import base as llm_base

pytest.importorskip("transformers")

VISION = {"key_frames", "frame_captions", "frame_tags", "frame_regions"}
GRIT = re.compile(r"(?:[^;\[\]]+: \[\d+, \d+, \d+, \d+\]; )*")
SUMMARY = "A man in a red shirt walks along a quiet street while a dog follows him."
QA3 = {"qa": [{"Q": f"Question {i} about the video?", "A": f"Answer number {i} about it."} for i in range(3)]}
ANSWERS = {
    "dense_caption_summary": {"summary": SUMMARY},
    "summary_qa": QA3,
    "description_qa": {"qa": [{"Q": f"Detail {i}?", "A": f"Detail answer {i}."} for i in range(3)]},
    "summary_qa_semi": {
        "qa": [{"Q": f"Semi summary {i}?", "A": f"Semi summary answer {i}."} for i in range(3)]
    },
    "description_qa_semi": {
        "qa": [{"Q": f"Semi detail {i}?", "A": f"Semi detail answer {i}."} for i in range(3)]
    },
    "creative_qa": {"Q": "Write a haiku about it.", "A": "Red shirt, quiet street / a dog follows"},
    "detailed_description_qa": {"Q": "Describe the video in detail.", "A": " ".join(["word"] * 200)},
}
SEEN: list[LLMRequest] = []
_lock = threading.Lock()


class RecordingEngine(LLMEngine):
    """Answers every task with its canned answer and keeps the requests (their prompts are checked)."""

    name = "canned-semi"

    def _complete(self, requests: list[LLMRequest]) -> list[Completion]:
        with _lock:
            SEEN.extend(requests)
        return [Completion(json.dumps(ANSWERS[r.task])) for r in requests]


@pytest.fixture
def canned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    SEEN.clear()
    monkeypatch.setattr(llm_base, "build_engine", lambda *a, **k: RecordingEngine(max_retries=0))
    # no MiniLM dedup: the canned items are alike on purpose, and dedup is tested on its own
    return ["llm.endpoint=canned-semi", "runtime.workers=1", "videochatgpt.key_frames=3", "llm.dedup=false"]


def _user(task: str) -> list[str]:
    return [r.messages[-1]["content"] for r in SEEN if r.task == task]


def _check_predictions(out: Path, vid: str, n_frames: int) -> list[list]:
    preds = json.loads((out / "predictions" / f"{vid}.json").read_text())
    vocab = set(vocabulary("tag2text"))
    assert len(preds) == n_frames
    for caption, dense, tags, size in preds:
        assert isinstance(caption, str) and GRIT.fullmatch(dense)
        assert len(parse_grit(dense)) <= 3 and grit_string(parse_grit(dense)) == dense
        (joined,) = tags
        assert 1 <= len(joined.split(" | ")) <= 5 and set(joined.split(" | ")) <= vocab
        assert max(size) == 224 and min(size) == 126  # 320x180 decoded to the largest model input (the classifier's 224)
    return preds


def test_semi_automatic_with_smollm2(smollm2_run: list[str], synth_h264, tmp_path: Path) -> None:
    out = tmp_path / "semi"
    overrides = [*smollm2_run, "videochatgpt.key_frames=3"]
    result = vidfast.run(
        [str(synth_h264.path)],
        out,
        recipe="videochatgpt",
        preset="embedded",
        progress=False,
        overrides=overrides,
    )
    report = result.report
    assert set(report["stages"]) == VISION | {"dense_caption", "videochatgpt_qa"}  # no human captions read
    assert report["stages"]["key_frames"]["counters"]["frames"] == 3
    _check_predictions(out, "h264", 3)
    dense_file = out / "dense_captions" / "h264.json"
    if report["export"]["dense_captions"]:  # SmolLM2 wrote a valid summary: QA were asked from it
        dense = json.loads(dense_file.read_text())
        assert isinstance(dense["dense_caption"], str) and len(dense["frames"]) == 3
        assert set(dense["frames"][0]) == {"time_s", "caption", "tags", "regions", "regions_dropped"}
        assert report["stages"]["videochatgpt_qa"]["counters"]["llm_requests"] == 2  # summary + description
    else:  # recorded with its raw text, and the video failed: it has no human caption to fall back on
        (row,) = [json.loads(ln) for ln in (out / "failures.jsonl").read_text().splitlines()]
        assert row["stage"] == "dense_caption" and row["reason"] == "LLMInvalid" and "raw:" in row["message"]
        assert report["videos"]["failed"] == 1 and not dense_file.exists()
    # the same run again does no work: no decode, no model call, every stage from the store
    again = vidfast.run(
        [str(synth_h264.path)],
        out,
        recipe="videochatgpt",
        preset="embedded",
        progress=False,
        overrides=overrides,
    ).report
    assert all(st["cached"] + st["skipped"] == 1 and st["ok"] == 0 for st in again["stages"].values())
    assert again["stages"]["key_frames"]["cached"] == 1


def test_semi_prompts_and_outputs(canned: list[str], synth_h264, tmp_path: Path) -> None:
    out = tmp_path / "semi"
    result = vidfast.run(
        [str(synth_h264.path), str(tmp_path / "gone.mp4")],
        out,
        recipe="videochatgpt",
        preset="embedded",
        progress=False,
        overrides=[*canned, "llm.descriptive=true"],
    )
    assert result.report["videos"]["done"] == 1 and result.report["export"]["videos_by_mode"] == {"semi": 1}
    assert result.report["failures_by_reason"] == {"missing": 1}  # no captions: a missing video is missing
    preds = _check_predictions(out, "h264", 3)
    (frames_text,) = _user("dense_caption_summary")
    assert frames_text.count("Frame caption: ") == sum(bool(p[0]) for p in preds)  # empty captions left out
    assert not re.search(r"\[\d+, \d+", frames_text)
    dense = json.loads((out / "dense_captions" / "h264.json").read_text())
    assert dense["dense_caption"] == SUMMARY and dense["video_id"] == "h264"
    for frame, (caption, grit, tags, _) in zip(dense["frames"], preds):
        assert frame["caption"] == caption and " | ".join(frame["tags"]) == tags[0]
        assert sorted(frame["regions"] + frame["regions_dropped"]) == sorted(
            r.caption for r in parse_grit(grit)
        )
        assert all(r in frames_text for r in frame["regions"])  # kept regions reach the prompt, captions only
    # QA written from the dense caption with the plain prompts, no creative item, no human caption
    assert {r.task for r in SEEN} == {
        "dense_caption_summary",
        "summary_qa",
        "description_qa",
        "detailed_description_qa",
    }
    assert all(SUMMARY in u for u in _user("summary_qa") + _user("description_qa"))
    qa = json.loads((out / "per_video" / "h264.json").read_text())
    assert qa == ANSWERS["summary_qa"]["qa"] + ANSWERS["description_qa"]["qa"]
    flat = json.loads((out / "videochatgpt_instruct.json").read_text())
    assert len(flat) == 7 and flat[0] == {"video_id": "h264", "q": qa[0]["Q"], "a": qa[0]["A"]}


def test_a_ram_tagging_model_tags_the_key_frames(canned: list[str], synth_h264, tmp_path: Path) -> None:
    """models.tagger = a RAM model (tiny, random weights): its classes tag the frames, and the tag
    filter uses the RAM vocabulary."""
    out = tmp_path / "ram"
    result = vidfast.run(
        [str(synth_h264.path)],
        out,
        recipe="videochatgpt",
        preset="embedded",
        progress=False,
        overrides=[*canned, "models.tagger=embedded:ram-tiny", "videochatgpt.tag_model_threshold=0.0",
                   "videochatgpt.tag_top_k=4"],
    )
    assert result.report["videos"]["done"] == 1
    preds = json.loads((out / "predictions" / "h264.json").read_text())
    ram = set(vocabulary("ram"))
    for _caption, _dense, (joined,), _size in preds:
        tags = joined.split(" | ")
        assert len(tags) == 4 and set(tags) <= ram
    assert result.report["stages"]["frame_tags"]["counters"]["tags"] == 4 * len(preds)


def test_captions_and_video_use_the_semi_prompts(canned: list[str], synth_h264, tmp_path: Path) -> None:
    captions = tmp_path / "caps.json"
    captions.write_text(
        json.dumps({"h264": "A man walks down a street.", "v_textonly": "A woman reads a book."})
    )
    out = tmp_path / "assisted"
    result = vidfast.run(
        [str(synth_h264.path), "v_textonly"],
        out,
        recipe="videochatgpt",
        preset="embedded",
        progress=False,
        overrides=[*canned, f"llm.captions={captions}", "videochatgpt.creative_semi=true"],
    )
    assert result.report["videos"]["done"] == 2
    assert result.report["export"]["videos_by_mode"] == {"assisted": 1, "human": 1}
    (semi_user,) = _user("summary_qa_semi")
    assert "A man walks down a street." in semi_user and SUMMARY in semi_user  # caption + noisy caption
    assert len(_user("description_qa_semi")) == 1 and len(_user("dense_caption_summary")) == 1
    creative = _user("creative_qa")  # the id-only input: human-assisted; the video: creative_semi
    assert len(creative) == 2 and any("A woman reads a book." in u for u in creative)
    assert "A woman reads a book." in _user("summary_qa")[0]
    video_qa = json.loads((out / "per_video" / "h264.json").read_text())
    assert [q["Q"] for q in video_qa[:6]] == [
        q["Q"] for q in ANSWERS["summary_qa_semi"]["qa"] + ANSWERS["description_qa_semi"]["qa"]
    ]
    assert len(json.loads((out / "per_video" / "v_textonly.json").read_text())) == 7
    assert not (out / "predictions" / "v_textonly.json").exists()
    assert result.report["stages"]["key_frames"]["counters"]["text_only"] == 1


def test_pred_dir_replaces_the_vision_stages(canned: list[str], tmp_path: Path) -> None:
    pred_dir = tmp_path / "preds"
    pred_dir.mkdir()
    frames = [
        [
            "a man riding a bike",
            "a man: [1, 2, 30, 40]; a dog on a leash: [50, 5, 60, 30]; a bike: [0, 0, 9, 9]; ",
            ["man | bike | street"],
            [640, 360],
        ],
        ["a street with cars", "", ["street | car"], [640, 360]],
    ]
    (pred_dir / "v_demo01.json").write_text(json.dumps(frames))
    out = tmp_path / "pred"
    result = vidfast.run(
        ["v_demo01", "v_missing"],
        out,
        recipe="videochatgpt",
        preset="embedded",
        progress=False,
        overrides=[*canned, f"videochatgpt.pred_dir={pred_dir}"],
    )
    assert set(result.report["stages"]) == {"frame_predictions", "dense_caption", "videochatgpt_qa"}
    (frames_text,) = _user("dense_caption_summary")
    block = (
        "Moment 1:\nFrame caption: a man riding a bike\nRegions: a man; a bike\n\n"
        "Moment 2:\nFrame caption: a street with cars\n\n"
    )  # "dog" is not a frame tag
    assert block in frames_text
    dense = json.loads((out / "dense_captions" / "v_demo01.json").read_text())
    assert dense["frames"][0]["regions_dropped"] == ["a dog on a leash"]
    assert not (out / "predictions").exists()  # the inputs are not copied back out
    manifest = {r["video"]: r for r in map(json.loads, (out / "manifest.jsonl").read_text().splitlines())}
    assert manifest["v_missing"]["reason"] == "NoPredictions" and manifest["v_demo01"]["status"] == "done"


def test_a_text_only_run_loads_no_vision_model(canned: list[str], caption_file: Path, tmp_path: Path) -> None:
    # the default preset names full-size vision models that are not on this machine: with only ids to
    # process they must never be loaded (they would raise a "not in the local cache" error)
    out = tmp_path / "text"
    result = vidfast.run(
        ["v_demo01"],
        out,
        recipe="videochatgpt",
        preset="default",
        progress=False,
        overrides=[*canned, f"llm.captions={caption_file}"],
    )
    assert result.report["videos"]["done"] == 1 and result.report["export"]["videos_by_mode"] == {"human": 1}
    assert {r.task for r in SEEN} == {
        "summary_qa",
        "description_qa",
        "creative_qa",
        "detailed_description_qa",
    }
    assert not (out / "dense_captions").exists() and not (out / "predictions").exists()


def test_video_without_a_caption_gets_the_semi_qa(canned: list[str], synth_h264, tmp_path: Path) -> None:
    """With captions given, a video the file does not name still gets QA from its dense caption (the
    human-captions stage records the missing caption instead of failing the video)."""
    captions = tmp_path / "caps.json"
    captions.write_text(json.dumps({"someone_else": "A woman reads a book."}))
    out = tmp_path / "partial"
    result = vidfast.run([str(synth_h264.path)], out, recipe="videochatgpt", preset="embedded", progress=False,
                         overrides=[*canned, f"llm.captions={captions}"])
    assert result.report["videos"] == {"total": 1, "done": 1, "failed": 0, "skipped": 0}
    assert result.report["export"]["videos_by_mode"] == {"semi": 1}
    assert result.report["stages"]["captions"]["counters"]["missing"] == 1
    assert len(_user("summary_qa")) == 1 and not _user("summary_qa_semi")
    assert len(json.loads((out / "per_video" / "h264.json").read_text())) == 6
