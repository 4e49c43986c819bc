"""Probe a video: container and stream facts without decoding more than its first frame.

``probe(path)`` reads the header and decodes one frame (for the rotation and to prove the stream
decodes). ``count_frames=True`` also demuxes every packet (no decoding) for an exact frame count, the
real duration and variable-frame-rate detection from the PTS deltas.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.container import InputContainer
from av.stream import Discard
from av.video.stream import VideoStream

from vidfast.errors import DecodeError
from vidfast.io._open import first_video_stream, open_input
from vidfast.io.decode import clockwise_rotation, display_dims

# Two frame durations count as equal within this many time-base ticks or this fraction of the median
# (Matroska stores milliseconds, so 30 fps shows as 33/34 ms steps: that is still constant).
_VFR_TICKS = 1.5
_VFR_REL = 0.02


@dataclass(frozen=True)
class VideoInfo:
    """What probe() learned about a video; ``to_dict()`` gives the JSON form."""

    path: str
    size_bytes: int
    container: str
    duration_s: float
    fps: float
    frame_count: int
    frame_count_exact: bool
    codec: str
    width: int
    height: int
    pix_fmt: str | None
    bit_rate: int | None
    vfr: bool
    rotation: int  # clockwise degrees to display upright: 0, 90, 180 or 270
    sample_aspect_ratio: float
    sample_aspect_ratio_str: str  # "num:den"
    display_width: int
    display_height: int
    has_audio: bool
    start_time_s: float
    time_base: str  # "num/den"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)


@dataclass(frozen=True)
class PacketScan:
    """Packet timestamps from one demux pass (no decoding), in presentation order."""

    pts: np.ndarray  # int64, sorted
    last_duration: int
    keyframe_pts: np.ndarray  # int64, sorted


def scan_packets(container: InputContainer, stream: VideoStream) -> PacketScan | None:
    """Demux every packet of ``stream`` (reading, not decoding); None when packets lack timestamps."""
    for other in container.streams:
        if other.index != stream.index:
            other.discard = Discard.all  # skip their packets in the demuxer
    pts: list[int] = []
    keyframes: list[int] = []
    last_duration = 0
    for packet in container.demux(stream):
        if packet.size == 0:
            continue
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None:
            return None
        pts.append(ts)
        last_duration = packet.duration or last_duration
        if packet.is_keyframe:
            keyframes.append(ts)
    return PacketScan(
        np.sort(np.asarray(pts, dtype=np.int64)),
        int(last_duration),
        np.sort(np.asarray(keyframes, dtype=np.int64)),
    )


def is_vfr_from_pts(pts: np.ndarray) -> bool:
    """True when the frame durations (deltas of sorted PTS) are not all equal within rounding."""
    if len(pts) < 3:
        return False
    deltas = np.diff(pts)
    median = float(np.median(deltas))
    tolerance = max(_VFR_TICKS, _VFR_REL * median)
    return bool(np.any(np.abs(deltas - median) > tolerance))


def _fps(stream: VideoStream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 0.0


def _header_vfr(stream: VideoStream, container: InputContainer) -> bool:
    avg, base = stream.average_rate, stream.base_rate
    if avg and base and abs(float(avg) - float(base)) > 0.01 * float(base):
        return True
    return "vfr" in str(container.metadata.get("comment", "")).lower()


def _duration(container: InputContainer, stream: VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return 0.0


def _first_frame_rotation(container: InputContainer, stream: VideoStream, path: Path) -> int:
    """Decode the first frame: proves the stream decodes and reads the display-matrix rotation."""
    try:
        for frame in container.decode(stream):
            return clockwise_rotation(frame.rotation)
    except (av.FFmpegError, ValueError) as exc:
        raise DecodeError(
            "decode_failed", f"{path}: the first video frame does not decode ({exc}); re-encode the file."
        ) from exc
    raise DecodeError(
        "truncated" if stream.frames else "decode_failed",
        f"{path}: the video stream holds no decodable frame; the file is cut off or empty inside — "
        "re-download it.",
    )


def _check_index_fits(stream: VideoStream, path: Path, size_bytes: int) -> None:
    """MP4/AVI carry a sample index: data it points past the end of the file means truncation."""
    entries = stream.index_entries
    if len(entries) == 0:
        return
    last = entries[len(entries) - 1]
    if last.pos >= 0 and last.pos + last.size > size_bytes:
        missing = last.pos + last.size - size_bytes
        raise DecodeError(
            "truncated",
            f"{path}: the file is cut off — its index points {missing} bytes past the end of the file "
            f"({size_bytes} bytes). Re-download or re-copy it.",
        )


def _ratio(value: Fraction | None) -> tuple[float, str]:
    if not value or value <= 0:
        return 1.0, "1:1"
    return float(value), f"{value.numerator}:{value.denominator}"


def probe(path: str | os.PathLike[str], count_frames: bool = False) -> VideoInfo:
    """Probe ``path``; raises DecodeError (reason code + what to do) for anything unusable.

    With ``count_frames`` the frame count, duration and VFR flag come from demuxing every packet
    (fast: no decoding); otherwise from the header (frame_count_exact=False).
    """
    p, container = open_input(path)
    try:
        return _probe_open(p, container, count_frames)
    finally:
        container.close()


def _probe_open(p: Path, container: InputContainer, count_frames: bool) -> VideoInfo:
    stream = first_video_stream(container, p)
    size_bytes = p.stat().st_size
    _check_index_fits(stream, p, size_bytes)
    rotation = _first_frame_rotation(container, stream, p)
    fps, duration = _fps(stream), _duration(container, stream)
    frame_count, exact = stream.frames or int(round(duration * fps)), False
    vfr = _header_vfr(stream, container)
    start = stream.start_time or 0
    if count_frames:
        container.seek(0)
        scan = scan_packets(container, stream)
        if scan is not None and len(scan.pts):
            frame_count, exact, vfr = len(scan.pts), True, is_vfr_from_pts(scan.pts)
            duration = float((scan.pts[-1] + scan.last_duration - scan.pts[0]) * stream.time_base)
    sar, sar_str = _ratio(stream.sample_aspect_ratio)
    dw, dh = display_dims(stream.width, stream.height, sar, rotation)
    return VideoInfo(
        path=str(p), size_bytes=size_bytes, container=container.format.name, duration_s=duration,
        fps=fps, frame_count=int(frame_count), frame_count_exact=exact, codec=stream.codec_context.name,
        width=stream.width, height=stream.height, pix_fmt=stream.format.name if stream.format else None,
        bit_rate=stream.bit_rate or container.bit_rate or None, vfr=vfr, rotation=rotation,
        sample_aspect_ratio=sar, sample_aspect_ratio_str=sar_str, display_width=dw, display_height=dh,
        has_audio=bool(container.streams.audio),
        start_time_s=float(start * stream.time_base) if start else 0.0,
        time_base=f"{stream.time_base.numerator}/{stream.time_base.denominator}",
    )
