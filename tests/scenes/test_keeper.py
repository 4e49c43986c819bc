"""FrameKeeper: the frames kept during shot detection equal what the sampler fetches, whatever the window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidfast.io.sampling import plan_uniform, sample_frames
from vidfast.scenes import detect_scenes
from vidfast.scenes.detect import make_detector
from vidfast.scenes.keeper import FrameKeeper
from vidfast.stages.decode.sample import GroundingPlanner
from vidfast.stages.scenes.shots import apply_scene_rules

GROUPS = 3


def _keep(path: Path, detector: str = "content", window_bytes: int = 256 << 20, cache_bytes: int = 1 << 30,
          min_scene_s: float = 0.5, min_scene_len: int = 15, threshold: float | None = None):
    det = make_detector(detector, threshold, min_scene_len)
    planner = GroundingPlanner(min_scene_s, None, 3, 0.2, GROUPS)
    keeper = FrameKeeper(det, planner, {"scene": 64, "caption": 48}, window_bytes, cache_bytes)
    found = detect_scenes(path, detector=det, observer=keeper)
    kept = apply_scene_rules(found.scenes, min_scene_s, None)["scenes"]
    return keeper, keeper.finish(found.scenes), kept


def _caption_spans(kept: list[list[float]]) -> list[list[float]]:
    spans = [[kept[a][0], kept[b][1]] for b in range(len(kept)) for a in range(max(0, b - GROUPS + 1), b + 1)]
    return [s for s in spans if s[1] - s[0] >= 0.2]


def _same_as_sampler(path: Path, cache, spec: str, plan, side: int) -> None:
    got = cache.take(path, spec, plan)
    ref = sample_frames(path, plan, short_side=side)
    assert len(got["times"]) == len(plan)
    np.testing.assert_array_equal(got["times"], ref.times_s)
    np.testing.assert_array_equal(np.asarray(got["images"]), np.asarray(ref.images))


@pytest.mark.parametrize("fixture", ["synth_h264", "synth_vfr", "synth_indexed"])
def test_kept_frames_equal_sampler_and_need_no_second_decode(fixture: str, request: pytest.FixtureRequest) -> None:
    video = request.getfixturevalue(fixture)
    keeper, cache, kept = _keep(video.path, min_scene_len=5)
    assert len(kept) >= 2, "the fixture must have cuts for this test to mean anything"
    scene_plan = plan_uniform(kept, 3)
    caption_plan = plan_uniform(_caption_spans(kept), 1)
    _same_as_sampler(video.path, cache, "scene", scene_plan, 64)
    _same_as_sampler(video.path, cache, "caption", caption_plan, 48)
    assert cache.fetched == 0, "a window that holds the whole video must serve every frame"
    assert cache.hits == len(scene_plan) + len(caption_plan)
    assert keeper.scenes, "content cuts must be confirmed online, during the pass"


def test_small_window_falls_back_to_the_sampler_with_identical_frames(synth_indexed) -> None:
    # a window of a few frames: most targets are gone when their scene closes and must be fetched
    keeper, cache, kept = _keep(synth_indexed.path, window_bytes=4 * 160 * 90 * 3 // 2, min_scene_len=5)
    plan = plan_uniform(kept, 3)
    _same_as_sampler(synth_indexed.path, cache, "scene", plan, 64)
    assert cache.fetched > 0
    # the window plus at most one decode batch (32 frames) is ever held
    assert keeper.peak_held <= 4 * 160 * 90 * 3 // 2 + 32 * keeper.frame_bytes


def test_cache_budget_is_respected(synth_h264) -> None:
    keeper, cache, kept = _keep(synth_h264.path, cache_bytes=1, min_scene_len=5)
    assert len(cache.images) == 1 and keeper.skipped_full > 0
    _same_as_sampler(synth_h264.path, cache, "scene", plan_uniform(kept, 3), 64)


def test_adaptive_detector_keeps_what_the_last_window_holds(synth_h264) -> None:
    keeper, cache, kept = _keep(synth_h264.path, detector="adaptive", min_scene_len=5)
    assert not keeper.scenes  # no online cuts for the adaptive rule: everything is planned at the end
    _same_as_sampler(synth_h264.path, cache, "scene", plan_uniform(kept, 3), 64)
    assert cache.fetched == 0  # the whole (short) video is still in the window at the end


def test_bikes_real_video(bikes_mp4: Path) -> None:
    _, cache, kept = _keep(bikes_mp4)
    assert len(kept) == 5
    _same_as_sampler(bikes_mp4, cache, "scene", plan_uniform(kept, 3), 64)
    assert cache.fetched == 0


def test_planner_applies_scene_rules_and_cap() -> None:
    planner = GroundingPlanner(0.5, 2, 2, 1.0, 2)
    scenes = [[0.0, 2.0], [2.0, 2.3], [2.3, 4.0], [4.0, 9.0]]
    targets = planner(scenes, 3)
    assert planner.kept == [[0.0, 2.0], [2.3, 4.0]]  # the 0.3 s scene dropped, the cap stops at 2
    scene_t = [t for spec, t in targets if spec == "scene"]
    np.testing.assert_allclose(scene_t, [0.5, 1.5, 2.725, 3.575])
    caption_t = [t for spec, t in targets if spec == "caption"]
    np.testing.assert_allclose(caption_t, [1.0, 2.0, 3.15])  # [0,2], [0,4] and [2.3,4]
