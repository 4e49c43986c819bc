"""Reference video decoder on PyAV (FFmpeg), threaded, streaming frames with PTS-based times.

Frame index = position in the decoder's output order (0-based), the count PySceneDetect's PyAV
backend uses. Frame time = (pts - stream start) x time_base, so variable-frame-rate video gets its
real times. Packets the decoder rejects are skipped and counted, never raised, unless nothing at all
decodes. Frames are converted (resize + pixel format, one swscale call) only when asked.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import av
import numpy as np
from av.container import InputContainer
from av.stream import Discard
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter
from av.video.stream import VideoStream

from vidfast import envs
from vidfast.errors import ConfigError, DecodeError
from vidfast.io._open import first_video_stream, open_input

FrameFormat = Literal["rgb24", "gray", "yuv420p"]
FORMATS: tuple[str, ...] = ("rgb24", "gray", "yuv420p")
THREAD_TYPES: tuple[str, ...] = ("SIZE", "AUTO", "FRAME", "SLICE", "NONE")
# "SIZE": frame+slice threads (AUTO) from this many pixels per frame up, one thread below: on tiny
# frames thread hand-off costs more CPU than it saves (160x90 H.264: +40% CPU), which matters when
# several videos decode at once; from 320x180 up threads win (bikes.mp4 640x272: 1.35x frames/s).
THREADED_MIN_PIXELS = 320 * 180
_MAX_ERRORS = 20


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded frame: output-order index, time in seconds from stream start, raw pts, image."""

    index: int
    time_s: float
    pts: int | None
    image: np.ndarray


@dataclass
class DecodeStats:
    """What a decode pass did: counts, wall time, and the first error messages (bounded).

    ``packets_corrupt``: packets the decoder rejected; their frames are lost (skipped, not raised).
    ``frames_corrupt``: frames the decoder delivered but flagged corrupt (concealed damage); they are
    still returned, so frame indices and times stay aligned with the rest of the video.
    """

    frames_decoded: int = 0
    frames_corrupt: int = 0
    frames_converted: int = 0
    packets: int = 0
    packets_corrupt: int = 0
    seeks: int = 0
    expected_frames: int = 0  # from the header; 0 when unknown
    expected_last_time_s: float = 0.0  # the last frame should start by then (header duration - slack)
    last_time_s: float = 0.0
    truncated: bool = False
    demux_failed: bool = False  # reading packets stopped on an error (cut-off or damaged container)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def add_error(self, message: str) -> None:
        """Record an error message; only the first few are kept so memory stays bounded."""
        if len(self.errors) < _MAX_ERRORS:
            self.errors.append(message)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class OutputSpec:
    """How decoded frames become images: scaled size before rotation, format, rotation steps."""

    width: int | None
    height: int | None
    fmt: str
    rot90: int  # counter-clockwise quarter turns applied after scaling (np.rot90 k)
    interpolation: str = "BILINEAR"


def _even(x: float) -> int:
    return max(2, int(round(x / 2.0)) * 2)


def output_size(
    display_w: int,
    display_h: int,
    size: tuple[int, int] | None = None,
    short_side: int | None = None,
    max_width: int | None = None,
) -> tuple[int, int] | None:
    """Output (h, w) for a display size: exact ``size`` (h, w), else ``short_side`` and/or ``max_width``
    keeping the aspect ratio (even numbers); None means the native size."""
    if size is not None:
        if short_side is not None or max_width is not None:
            raise ConfigError("give either size=(h, w) or short_side/max_width, not both")
        h, w = (int(v) for v in size)
        if h <= 0 or w <= 0:
            raise ConfigError(f"size must be positive (h, w), got {size}")
        return h, w
    if short_side is None and max_width is None:
        return None
    scale = 1.0
    if short_side is not None:
        scale = short_side / min(display_w, display_h)
    if max_width is not None and display_w * scale > max_width:
        scale = max_width / display_w
    return _even(display_h * scale), _even(display_w * scale)


def display_dims(width: int, height: int, sar: float, rotation: int) -> tuple[int, int]:
    """(display_w, display_h) after applying the sample aspect ratio and a quarter-turn rotation."""
    w = int(round(width * sar)) if sar and sar > 0 else width
    return (height, w) if rotation % 180 == 90 else (w, height)


def make_output_spec(
    frame: VideoFrame,
    sar: float,
    size: tuple[int, int] | None,
    short_side: int | None,
    max_width: int | None,
    fmt: str,
    autorotate: bool = True,
) -> OutputSpec:
    """The conversion for frames shaped like ``frame`` (rotation read from its display matrix)."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown frame format {fmt!r}; valid: {', '.join(FORMATS)}")
    # planar yuv420p output is never rotated (a quarter turn of three planes is not an ndarray view)
    rotation = clockwise_rotation(frame.rotation) if autorotate and fmt != "yuv420p" else 0
    dw, dh = display_dims(frame.width, frame.height, sar, rotation)
    hw = output_size(dw, dh, size, short_side, max_width)
    if hw is None and (dw, dh) != display_dims(frame.width, frame.height, 1.0, rotation):
        hw = (dh, dw)  # non-square pixels: scale to the display size
    if hw is None:  # no scaling: POINT selects swscale's unscaled converter, ~6x faster than BILINEAR
        return OutputSpec(None, None, fmt, -rotation // 90, "POINT")
    h, w = hw
    if fmt == "yuv420p":
        h, w = _even(h), _even(w)
    if rotation % 180 == 90:
        h, w = w, h
    return OutputSpec(w, h, fmt, -rotation // 90)


def clockwise_rotation(ccw_degrees: float) -> int:
    """FFmpeg's counter-clockwise display-matrix angle as clockwise degrees in {0, 90, 180, 270}."""
    return int(round(-ccw_degrees / 90.0)) * 90 % 360


class FrameConverter:
    """Turns frames into images per an OutputSpec, reusing one swscale context (creating one per
    frame costs more than the conversion itself on small frames)."""

    def __init__(self, spec: OutputSpec) -> None:
        self.spec = spec
        self.reformatter = VideoReformatter()

    def __call__(self, frame: VideoFrame) -> np.ndarray:
        """One frame as an image: [H, W, 3] rgb24, [H, W] gray, or planar [H*3/2, W] yuv420p."""
        spec = self.spec
        same = spec.width in (None, frame.width) and spec.height in (None, frame.height)
        if not (same and spec.fmt == frame.format.name):
            frame = self.reformatter.reformat(
                frame, spec.width, spec.height, spec.fmt, interpolation=spec.interpolation, threads=1
            )
        image = frame.to_ndarray()
        if spec.rot90 % 4:
            image = np.ascontiguousarray(np.rot90(image, k=spec.rot90))
        return image


def decode_threads(threads: int | None = None) -> int:
    """Decoder thread count: the argument, else VIDFAST_DECODE_THREADS (0 = FFmpeg's choice)."""
    if threads is None:
        threads = int(envs.get("VIDFAST_DECODE_THREADS") or 0)
    return max(0, int(threads))


def open_decoder(
    path: str | os.PathLike[str], threads: int | None = None, thread_type: str | None = None
) -> tuple[InputContainer, VideoStream]:
    """Open the video for threaded decoding of its first video stream."""
    p, container = open_input(path)
    try:
        stream = first_video_stream(container, p)
    except DecodeError:
        container.close()
        raise
    kind = (thread_type or envs.get("VIDFAST_DECODE_THREAD_TYPE")).upper()
    if kind not in THREAD_TYPES:
        raise ConfigError(f"unknown decoder thread type {kind!r}; valid: {', '.join(THREAD_TYPES)}")
    count = decode_threads(threads)
    if kind == "SIZE":
        big = stream.width * stream.height >= THREADED_MIN_PIXELS
        kind = "AUTO" if big or count > 1 else "NONE"
    for other in container.streams:
        if other.index != stream.index:
            other.discard = Discard.all  # the demuxer then skips their packets instead of reading them
    if kind == "NONE":
        stream.thread_count = 1
    else:
        stream.thread_type = kind
        stream.thread_count = count
    return container, stream


def next_packet(packets: Iterator[av.Packet], stats: DecodeStats) -> av.Packet | None:
    """The next demuxed packet; None at the end or when demuxing fails (recorded as truncation)."""
    try:
        return next(packets)
    except StopIteration:
        return None
    except (av.FFmpegError, OSError) as exc:
        stats.truncated = stats.demux_failed = True
        stats.add_error(f"demux stopped: {exc}")
        return None


def decode_packet(stream: VideoStream, packet: av.Packet | None, stats: DecodeStats) -> list[VideoFrame]:
    """Frames from one packet (None drains the decoder); a rejected packet is counted, not raised."""
    try:
        return stream.decode(packet)
    except EOFError:  # draining an already drained decoder
        return []
    except (av.FFmpegError, ValueError) as exc:
        stats.packets_corrupt += 1
        stats.add_error(f"packet pts={getattr(packet, 'pts', None)}: {exc}")
        return []


def iter_av_frames(
    container: InputContainer, stream: VideoStream, stats: DecodeStats
) -> Iterator[VideoFrame]:
    """Decoded frames in output order; corrupt packets are skipped and counted in ``stats``."""
    packets = container.demux(stream)
    drained = False
    while (packet := next_packet(packets, stats)) is not None:
        if packet.size == 0:  # PyAV's end-of-stream packet: drain the decoder
            drained = True
            yield from tally(decode_packet(stream, None, stats), stats)
        else:
            stats.packets += 1
            yield from tally(decode_packet(stream, packet, stats), stats)
    if not drained:
        yield from tally(decode_packet(stream, None, stats), stats)


def tally(frames: list[VideoFrame], stats: DecodeStats) -> Iterator[VideoFrame]:
    """Yield the frames, counting them (and the corrupt ones) in ``stats``."""
    for frame in frames:
        stats.frames_decoded += 1
        if frame.is_corrupt:
            stats.frames_corrupt += 1
        yield frame


class FrameClock:
    """Frame times in seconds from the stream start, from PTS x time_base (falls back to fps steps)."""

    def __init__(self, stream: VideoStream) -> None:
        self.time_base = float(stream.time_base) if stream.time_base else 0.0
        self.start = stream.start_time
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        self.step = 1.0 / float(rate) if rate else 0.0
        self.last = -self.step

    def time(self, frame: VideoFrame) -> float:
        """Seconds from the stream start for this frame."""
        if frame.pts is None or not self.time_base:
            self.last += self.step
            return self.last
        if self.start is None:
            self.start = frame.pts
        self.last = (frame.pts - self.start) * self.time_base
        return self.last


def finish(stats: DecodeStats, path: str | os.PathLike[str], t0: float) -> None:
    """Close the books on a pass: wall time, truncation check, and DecodeError if nothing decoded."""
    stats.seconds = time.perf_counter() - t0
    expected = stats.expected_frames
    if expected and stats.frames_decoded + stats.packets_corrupt < expected - max(2, expected // 50):
        stats.truncated = True
        stats.add_error(f"decoded {stats.frames_decoded} of the {expected} frames the header announces")
    elif stats.frames_decoded and stats.last_time_s < stats.expected_last_time_s:
        stats.truncated = True
        stats.add_error(f"frames end at {stats.last_time_s:.2f} s but the header promises more")
    if stats.frames_decoded == 0:
        reason = "truncated" if stats.demux_failed else "decode_failed"
        detail = "; ".join(stats.errors[:3]) or "the decoder produced no frame"
        raise DecodeError(
            reason,
            f"{path}: no frame could be decoded ({detail}); the file is damaged or cut off — "
            "re-download or re-encode it (e.g. `ffmpeg -i in.mp4 -c:v libx264 out.mp4`).",
        )


def expect_from_header(stats: DecodeStats, container: InputContainer, stream: VideoStream) -> None:
    """Fill the header's promises (frame count, duration) that a full pass is checked against."""
    stats.expected_frames = stream.frames or 0
    clock = FrameClock(stream)
    if stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
        slack = 3 * clock.step + 0.02 * duration
    elif container.duration:  # container-level: may include longer audio, so allow more
        duration = container.duration / 1_000_000
        slack = max(1.0, 0.05 * duration)
    else:
        return
    stats.expected_last_time_s = max(0.0, duration - slack)


def _sar(stream: VideoStream) -> float:
    sar = stream.sample_aspect_ratio
    return float(sar) if sar else 1.0


def decode(
    path: str | os.PathLike[str],
    size: tuple[int, int] | None = None,
    short_side: int | None = None,
    max_width: int | None = None,
    fmt: FrameFormat = "rgb24",
    threads: int | None = None,
    stats: DecodeStats | None = None,
    autorotate: bool = True,
) -> Iterator[DecodedFrame]:
    """Stream every frame of ``path`` as a DecodedFrame at the requested size and format.

    ``size`` is an exact output (h, w); otherwise ``short_side`` / ``max_width`` scale keeping the
    display aspect ratio (sample aspect ratio and rotation applied); neither means native size.
    Pass ``stats`` to receive the counts; raises DecodeError when nothing decodes.
    """
    stats = stats if stats is not None else DecodeStats()
    t0 = time.perf_counter()
    container, stream = open_decoder(path, threads)
    expect_from_header(stats, container, stream)
    clock, sar, convert = FrameClock(stream), _sar(stream), None
    try:
        for index, frame in enumerate(iter_av_frames(container, stream, stats)):
            convert = convert or FrameConverter(
                make_output_spec(frame, sar, size, short_side, max_width, fmt, autorotate)
            )
            stats.frames_converted += 1
            stats.last_time_s = clock.time(frame)
            yield DecodedFrame(index, stats.last_time_s, frame.pts, convert(frame))
    finally:
        container.close()
    finish(stats, path, t0)


def decode_check(
    path: str | os.PathLike[str], size: tuple[int, int] | None = None, threads: int | None = None
) -> DecodeStats:
    """Decode every frame once, keeping none, and return the counts (for probing a video's health).

    No pixel conversion happens unless ``size`` (h, w) is given, in which case each frame is also
    scaled to that (tiny) grey size, exercising the scaler. Memory stays bounded on any length.
    """
    stats = DecodeStats()
    t0 = time.perf_counter()
    container, stream = open_decoder(path, threads)
    expect_from_header(stats, container, stream)
    clock = FrameClock(stream)
    convert = FrameConverter(OutputSpec(size[1], size[0], "gray", 0)) if size else None
    try:
        for frame in iter_av_frames(container, stream, stats):
            stats.last_time_s = clock.time(frame)
            if convert is not None:
                convert(frame)
    finally:
        container.close()
    finish(stats, path, t0)
    return stats
