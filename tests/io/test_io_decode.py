"""decode() / decode_check(): frame counts, PTS times (VFR too), sizes, formats, corrupt input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidfast.errors import ConfigError, DecodeError
from vidfast.io import decode, decode_check, output_size
from vidfast.io.decode import DecodeStats
from vidfast.synth import SynthOptions, generate, read_code


def _truth_times(truth) -> np.ndarray:
    return np.asarray(truth.frame_times) if truth.vfr else np.arange(truth.frame_count) / truth.fps


@pytest.mark.parametrize("fixture", ["synth_h264", "synth_vp9", "synth_mjpeg", "synth_vfr"])
def test_decode_counts_and_times(request: pytest.FixtureRequest, fixture: str) -> None:
    video = request.getfixturevalue(fixture)
    stats = DecodeStats()
    frames = list(decode(video.path, size=(36, 64), stats=stats))
    assert [f.index for f in frames] == list(range(video.truth.frame_count))
    atol = 5e-4 if video.path.suffix in {".webm", ".mkv"} else 1e-6  # Matroska stores whole milliseconds
    np.testing.assert_allclose([f.time_s for f in frames], _truth_times(video.truth), atol=atol)
    assert frames[0].image.shape == (36, 64, 3) and frames[0].image.dtype == np.uint8
    assert stats.frames_decoded == video.truth.frame_count and stats.frames_corrupt == 0
    assert not stats.truncated and stats.seconds > 0


def test_decode_index_code_matches_frame_index(synth_vfr) -> None:
    codes = [read_code(f.image) for f in decode(synth_vfr.path)]
    assert codes == list(range(synth_vfr.truth.frame_count))


@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [
        ({}, (180, 320, 3)),
        ({"short_side": 90}, (90, 160, 3)),
        ({"max_width": 100}, (56, 100, 3)),
        ({"size": (50, 50)}, (50, 50, 3)),
        ({"fmt": "gray", "short_side": 36}, (36, 64)),
        ({"fmt": "yuv420p", "size": (36, 64)}, (54, 64)),
    ],
)
def test_decode_sizes_and_formats(synth_h264, kwargs: dict, shape: tuple) -> None:
    frame = next(iter(decode(synth_h264.path, **kwargs)))
    assert frame.image.shape == shape


def test_output_size_rules() -> None:
    assert output_size(1280, 720) is None
    assert output_size(1280, 720, short_side=224) == (224, 398)
    assert output_size(1280, 720, short_side=720, max_width=640) == (360, 640)
    with pytest.raises(ConfigError):
        output_size(1280, 720, size=(10, 10), short_side=5)


def test_decode_applies_rotation(tmp_path: Path) -> None:
    path = tmp_path / "rot.mp4"
    generate(path, SynthOptions(size=(160, 90), duration=1.0, scenes=1, rotation=90, index_code=True))
    upright = next(iter(decode(path))).image
    raw = next(iter(decode(path, autorotate=False))).image
    assert upright.shape == (160, 90, 3) and raw.shape == (90, 160, 3)
    np.testing.assert_array_equal(upright, np.rot90(raw, k=-1))  # 90 degrees clockwise
    assert read_code(np.rot90(upright, k=1)) == 0


def test_decode_threads_setting_gives_same_frames(synth_h264, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDFAST_DECODE_THREADS", "1")
    monkeypatch.setenv("VIDFAST_DECODE_THREAD_TYPE", "SLICE")
    one = [f.image for f in decode(synth_h264.path, size=(18, 32))]
    monkeypatch.setenv("VIDFAST_DECODE_THREADS", "2")
    monkeypatch.setenv("VIDFAST_DECODE_THREAD_TYPE", "AUTO")
    two = [f.image for f in decode(synth_h264.path, size=(18, 32))]
    np.testing.assert_array_equal(np.stack(one), np.stack(two))


def test_decode_check_clean(synth_vp9) -> None:
    stats = decode_check(synth_vp9.path, size=(8, 8))
    assert stats.frames_decoded == synth_vp9.truth.frame_count
    assert stats.frames_corrupt == stats.packets_corrupt == 0 and not stats.truncated and not stats.errors


def test_decode_check_counts_corrupt_packets_and_continues(synth_h264, tmp_path: Path) -> None:
    data = bytearray(synth_h264.path.read_bytes())
    rng = np.random.default_rng(0)
    for frac in (0.3, 0.5, 0.7):
        at = int(len(data) * frac)
        data[at : at + 3000] = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    bad = tmp_path / "flipped.mp4"
    bad.write_bytes(bytes(data))
    stats = decode_check(bad)
    n = synth_h264.truth.frame_count
    assert stats.frames_decoded >= 0.8 * n
    assert stats.packets_corrupt + stats.frames_corrupt > 0 and stats.errors
    assert len(list(decode(bad, size=(18, 32)))) == stats.frames_decoded


def test_decode_check_flags_truncated_webm(synth_vp9, tmp_path: Path) -> None:
    cut = tmp_path / "cut.webm"
    data = synth_vp9.path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    stats = decode_check(cut)
    assert stats.truncated and 0 < stats.frames_decoded < synth_vp9.truth.frame_count


def test_decode_nothing_decodes_is_an_error(tmp_path: Path, synth_mjpeg) -> None:
    data = bytearray(synth_mjpeg.path.read_bytes())
    bad = tmp_path / "garbled.avi"
    keep = 4096  # the AVI header survives, every frame is noise
    data[keep:] = np.random.default_rng(1).integers(0, 256, len(data) - keep, dtype=np.uint8).tobytes()
    bad.write_bytes(bytes(data))
    with pytest.raises(DecodeError) as caught:
        decode_check(bad)
    assert caught.value.reason == "decode_failed" and "re-encode" in str(caught.value)


def test_decode_bad_inputs_raise(bad_videos: dict[str, Path]) -> None:
    cases = [("empty", "empty_file"), ("random", "not_a_video"), ("audio_only", "no_video_stream")]
    for name, reason in cases:
        with pytest.raises(DecodeError) as caught:
            decode_check(bad_videos[name])
        assert caught.value.reason == reason
