"""probe(): fields on every synthetic codec/container and on real clips; errors on bad inputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vidfast.errors import DecodeError
from vidfast.io import probe
from vidfast.synth import SynthOptions, generate


@pytest.mark.parametrize(
    ("fixture", "codec", "container"),
    [
        ("synth_h264", "h264", "mp4"),
        ("synth_vp9", "vp9", "webm"),
        ("synth_mjpeg", "mjpeg", "avi"),
        ("synth_vfr", "h264", "mp4"),
    ],
)
def test_probe_synthetic(request: pytest.FixtureRequest, fixture: str, codec: str, container: str) -> None:
    video = request.getfixturevalue(fixture)
    truth = video.truth
    info = probe(video.path, count_frames=True)
    assert info.codec == codec and container in info.container
    assert (info.width, info.height) == truth.size == (info.display_width, info.display_height)
    assert info.frame_count == truth.frame_count and info.frame_count_exact
    assert info.duration_s == pytest.approx(truth.duration, abs=0.05)
    assert info.vfr == truth.vfr
    assert info.has_audio == truth.audio
    assert info.rotation == 0 and info.sample_aspect_ratio_str == "1:1" and info.start_time_s == 0.0
    assert info.size_bytes == video.path.stat().st_size and info.pix_fmt
    if not truth.vfr:
        assert info.fps == pytest.approx(truth.fps, rel=1e-3)
    json.dumps(info.to_dict())


def test_probe_header_only_is_marked_inexact(synth_h264) -> None:
    info = probe(synth_h264.path)
    assert not info.frame_count_exact
    assert info.frame_count == synth_h264.truth.frame_count


def test_probe_vfr_from_header_mp4(synth_vfr) -> None:
    assert probe(synth_vfr.path).vfr  # MP4: average rate differs from the base rate


def test_probe_rotation(tmp_path: Path) -> None:
    path = tmp_path / "rot.mp4"
    generate(path, SynthOptions(size=(160, 90), duration=1.0, scenes=1, rotation=90))
    info = probe(path)
    assert info.rotation == 90
    assert (info.display_width, info.display_height) == (90, 160)


def test_probe_bikes(bikes_mp4: Path) -> None:
    info = probe(bikes_mp4, count_frames=True)
    assert (info.codec, info.width, info.height, info.frame_count) == ("h264", 640, 272, 250)
    assert info.fps == pytest.approx(25.0) and not info.vfr
    assert info.duration_s == pytest.approx(10.0, abs=0.05)


@pytest.mark.parametrize(
    ("name", "frames", "fps", "vfr"),
    [
        ("testvideo.mp4", 720, 29.97, False),
        ("counter.mp4", 30, 10.0, False),
        ("fades.mp4", 250, 25.0, False),
        ("goldeneye-vfr-drop3.mp4", 160, None, True),
    ],
)
def test_probe_shared_clips(shared_dir: Path, name: str, frames: int, fps: float | None, vfr: bool) -> None:
    path = shared_dir / "testdata" / "pyscenedetect" / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    info = probe(path, count_frames=True)
    assert info.frame_count == frames and info.vfr == vfr
    if fps is not None:
        assert info.fps == pytest.approx(fps, rel=1e-3)


def _expect(path: Path, reason: str) -> DecodeError:
    with pytest.raises(DecodeError) as caught:
        probe(path)
    assert caught.value.reason == reason, str(caught.value)
    assert str(path) in str(caught.value)
    return caught.value


def test_probe_missing(tmp_path: Path) -> None:
    assert "check the path" in str(_expect(tmp_path / "nope.mp4", "missing"))


def test_probe_directory(tmp_path: Path) -> None:
    assert "directory" in str(_expect(tmp_path, "not_a_video"))


def test_probe_empty(bad_videos: dict[str, Path]) -> None:
    assert "0 bytes" in str(_expect(bad_videos["empty"], "empty_file"))


def test_probe_random_bytes(bad_videos: dict[str, Path]) -> None:
    assert "not a video" in str(_expect(bad_videos["random"], "not_a_video"))


def test_probe_truncated(bad_videos: dict[str, Path]) -> None:
    assert "cut off" in str(_expect(bad_videos["truncated"], "truncated"))


def test_probe_truncated_faststart(tmp_path: Path) -> None:
    whole = tmp_path / "fs.mp4"
    generate(whole, SynthOptions(size=(160, 90), duration=2.0, scenes=1, faststart=True))
    cut = tmp_path / "fs_cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert "cut off" in str(_expect(cut, "truncated"))


def test_probe_audio_only(bad_videos: dict[str, Path]) -> None:
    assert "audio" in str(_expect(bad_videos["audio_only"], "no_video_stream"))


def test_probe_unreadable(synth_h264, monkeypatch: pytest.MonkeyPatch) -> None:
    # root reads everything, so the permission check is exercised through os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert "chmod" in str(_expect(synth_h264.path, "unreadable"))
