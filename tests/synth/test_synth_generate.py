"""The synthetic generator: sidecar truth agrees with decoding and with PySceneDetect; CLI; options."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vidfast.errors import ConfigError
from vidfast.io import decode, probe
from vidfast.synth import SCENE_KINDS, SynthOptions, draw_code, generate, load_truth, read_code
from vidfast.synth.cli import synth_command

ALL = ["synth_h264", "synth_vp9", "synth_mjpeg", "synth_vfr", "synth_indexed"]


@pytest.mark.parametrize("fixture", ALL)
def test_sidecar_layout(request: pytest.FixtureRequest, fixture: str) -> None:
    video = request.getfixturevalue(fixture)
    truth = video.truth
    doc = json.loads(Path(str(video.path) + ".json").read_text())
    assert load_truth(video.path) == truth
    assert doc["video"] == video.path.name and ("frame_times" in doc) == truth.vfr
    starts = [s.start_frame for s in truth.scenes]
    assert starts[0] == 0 and truth.scenes[-1].end_frame == truth.frame_count - 1
    assert all(a.end_frame + 1 == b.start_frame for a, b in zip(truth.scenes, truth.scenes[1:]))
    fade_mids = [s for s in starts[1:] if any(a <= s <= b for a, b in truth.fades)]
    assert sorted(truth.cuts + fade_mids) == starts[1:]
    assert len(truth.fades) == 1 and truth.fades[0][1] - truth.fades[0][0] + 1 >= 0.8 * truth.fps * 0.9
    assert all(s.description.endswith(".") and s.kind for s in truth.scenes)
    assert truth.scenes[-1].end_sec == pytest.approx(truth.duration)


@pytest.mark.parametrize("fixture", ALL)
def test_sidecar_matches_decoder(request: pytest.FixtureRequest, fixture: str) -> None:
    video = request.getfixturevalue(fixture)
    truth = video.truth
    times = np.array([f.time_s for f in decode(video.path, size=(18, 32), fmt="gray")])
    assert len(times) == truth.frame_count
    expected = np.asarray(truth.frame_times) if truth.vfr else np.arange(truth.frame_count) / truth.fps
    atol = 5e-4 if video.path.suffix in {".webm", ".mkv"} else 1e-6
    np.testing.assert_allclose(times, expected, atol=atol)
    info = probe(video.path, count_frames=True)
    assert info.frame_count == truth.frame_count
    assert info.duration_s == pytest.approx(truth.duration, abs=1e-3)


def test_vfr_frame_durations_are_irregular(synth_vfr) -> None:
    steps = np.round(np.diff(synth_vfr.truth.frame_times) * 1000).astype(int)
    assert len(set(steps.tolist())) >= 2 and synth_vfr.truth.vfr


def test_content_detector_finds_the_hard_cuts(synth_h264) -> None:
    scenedetect = pytest.importorskip("scenedetect")
    scenes = scenedetect.detect(str(synth_h264.path), scenedetect.ContentDetector())
    found = [s[0].frame_num for s in scenes[1:]]
    for cut in synth_h264.truth.cuts:
        assert any(abs(f - cut) <= 1 for f in found), (cut, found)
    allowed = synth_h264.truth.cuts + [f for a, b in synth_h264.truth.fades for f in range(a, b + 1)]
    assert all(any(abs(f - c) <= 1 for c in allowed) for f in found), (found, allowed)


def test_scene_kinds_differ_in_colour() -> None:
    from vidfast.synth.content import Grid

    grid = Grid.make(64, 36)
    means = [kind.render(grid, 0.5, 0.5, False).reshape(-1, 3).mean(0) for kind in SCENE_KINDS]
    for a, b in zip(means, means[1:] + means[:1]):  # neighbours in the cycle
        assert np.abs(a - b).max() > 40


def test_index_code_roundtrip_after_resize() -> None:
    cv2 = pytest.importorskip("cv2")
    image = np.full((180, 320, 3), 128, np.uint8)
    draw_code(image, 43210)
    assert read_code(image) == 43210
    assert read_code(cv2.resize(image, (160, 90), interpolation=cv2.INTER_AREA)) == 43210


def test_generate_rejects_bad_combinations(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\.webm takes vp9"):
        generate(tmp_path / "x.webm", SynthOptions(codec="h264"))
    with pytest.raises(ConfigError, match="variable frame rate"):
        generate(tmp_path / "x.avi", SynthOptions(codec="mjpeg", vfr=True))
    with pytest.raises(ConfigError, match="too few"):
        generate(tmp_path / "x.mp4", SynthOptions(duration=1.0, scenes=10))
    with pytest.raises(ConfigError, match="extension"):
        generate(tmp_path / "x.mov", SynthOptions())


def test_generate_vfr_mkv_and_seeds_differ(tmp_path: Path) -> None:
    a = generate(tmp_path / "a.mkv", SynthOptions(vfr=True, size=(64, 36), duration=3.0, scenes=2, seed=1))
    b = generate(tmp_path / "b.mkv", SynthOptions(vfr=True, size=(64, 36), duration=3.0, scenes=2, seed=2))
    assert a.frame_times != b.frame_times
    times = [f.time_s for f in decode(tmp_path / "a.mkv", size=(18, 32), fmt="gray")]
    np.testing.assert_allclose(times, a.frame_times, atol=1e-6)


def test_cli_single_and_count(tmp_path: Path) -> None:
    runner = CliRunner()
    one = runner.invoke(synth_command, [str(tmp_path / "one.mp4"), "--duration", "2", "--size", "64x36",
                                        "--scenes", "2", "--audio", "--vfr", "--gop", "10"])
    assert one.exit_code == 0, one.output
    truth = load_truth(tmp_path / "one.mp4")
    assert truth.vfr and truth.audio and probe(tmp_path / "one.mp4").has_audio
    many = runner.invoke(synth_command, [str(tmp_path / "many"), "--count", "2", "--duration", "2",
                                         "--size", "64x36", "--codec", "vp9", "--scenes", "2", "--seed", "7"])
    assert many.exit_code == 0, many.output
    names = sorted(p.name for p in (tmp_path / "many").glob("*.webm"))
    assert names == ["synth_0007.webm", "synth_0008.webm"]


def test_cli_reports_bad_combination(tmp_path: Path) -> None:
    result = CliRunner().invoke(synth_command, [str(tmp_path / "x.webm"), "--codec", "mjpeg"])
    assert result.exit_code == 2 and "takes vp9" in result.output
    result = CliRunner().invoke(synth_command, [str(tmp_path / "x.mp4"), "--size", "big"])
    assert result.exit_code == 2 and "WIDTHxHEIGHT" in result.output
