"""Frame sampling: plan target times inside time ranges, then fetch them in one forward pass.

Which frame a target time T gets: frame k *presents* during [t_k, t_{k+1}), where t_k is its PTS time
(seconds from the stream start, output order); T gets the frame whose interval contains it. Targets
before the first frame get the first frame; targets at or after the last frame's time get the last
frame (its interval is open-ended). Times are compared with a TIME_EPS_S (1 us) allowance, because
PTS x time_base and planned times are not exact in floating point: a target 1.64 s must get the frame
that starts at 1.64 s even if that start computes as 1.6400000000000001. Duplicate and unsorted
targets are fine: results follow the plan's order, and equal frames share one converted image.

How it is fast: only the selected frames are converted (resize + pixel format), and decoding stops
after the last target. By default the packets are first scanned (demux only, no decoding: a few
percent of a decode) for every frame's time and the keyframes, which maps each target to its frame
up front. The decoder then (a) drops non-reference frames that are not wanted (nothing depends on
them) and (b) jumps FORWARD to the keyframe before the next wanted frame whenever that skips more
than ``seek_threshold_s`` of video. It is still one forward pass, never a seek per frame. If the
decoder ever fails to deliver a frame the scan promised (damaged file, odd timestamps), the video is
re-read by the reference pass: every frame decoded in order, frame index = output order.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import av
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from vidfast.errors import ConfigError
from vidfast.io.decode import (
    DecodeStats,
    FrameClock,
    FrameConverter,
    FrameFormat,
    OutputSpec,
    decode_packet,
    finish,
    iter_av_frames,
    make_output_spec,
    next_packet,
    open_decoder,
    tally,
)
from vidfast.io.probe import PacketScan, scan_packets

Range = tuple[float, float]
DEFAULT_SEEK_THRESHOLD_S = 1.0
TIME_EPS_S = 1e-6


@dataclass(frozen=True)
class SamplePlan:
    """Target times (seconds from the stream start) and the index of the range each came from."""

    times: np.ndarray  # float64 [N]
    range_ids: np.ndarray  # int64 [N]

    def __len__(self) -> int:
        return len(self.times)

    @staticmethod
    def from_times(times: Sequence[float], range_ids: Sequence[int] | None = None) -> SamplePlan:
        """A plan from explicit times (any order, duplicates allowed); range ids default to 0."""
        t = np.asarray(times, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(t)):
            raise ConfigError("sample times must be finite numbers of seconds")
        ids = np.zeros(len(t), np.int64) if range_ids is None else np.asarray(range_ids, np.int64).reshape(-1)
        if len(ids) != len(t):
            raise ConfigError(f"{len(t)} times but {len(ids)} range ids")
        return SamplePlan(t, ids)


def _check_ranges(ranges: Sequence[Range]) -> np.ndarray:
    arr = np.asarray(list(ranges), dtype=np.float64).reshape(-1, 2)
    if not np.all(np.isfinite(arr)) or np.any(arr[:, 1] < arr[:, 0]):
        bad = next(i for i, (s, e) in enumerate(arr) if not (np.isfinite(s) and np.isfinite(e) and e >= s))
        raise ConfigError(
            f"time range {bad} is {tuple(arr[bad])}; ranges must be finite (start, end) with end >= start"
        )
    return arr


def _centres(start: float, end: float, n: int) -> np.ndarray:
    return start + (np.arange(n) + 0.5) * ((end - start) / n)


def plan_uniform(ranges: Sequence[Range], n: int) -> SamplePlan:
    """``n`` targets per range at the centres of ``n`` equal sub-intervals (n=1: the middle)."""
    if n < 1:
        raise ConfigError(f"frames per range must be >= 1, got {n}")
    arr = _check_ranges(ranges)
    times = [_centres(s, e, n) for s, e in arr]
    ids = [np.full(n, i, np.int64) for i in range(len(arr))]
    return _concat(times, ids)


def _fps_times(start: float, end: float, fps: float, cap: int | None) -> np.ndarray:
    n = max(1, math.floor((end - start) * fps + 1e-9))
    if cap is not None and n > cap:
        return _centres(start, end, cap)
    offset = ((end - start) - (n - 1) / fps) / 2.0
    return start + offset + np.arange(n) / fps


def plan_fps(ranges: Sequence[Range], fps: float, max_per_range: int | None = None) -> SamplePlan:
    """Targets every 1/``fps`` s, the grid centred in each range (at least one per range); when a
    range would get more than ``max_per_range``, that many are spread evenly (sub-interval centres)."""
    if not fps > 0:
        raise ConfigError(f"sampling fps must be > 0, got {fps}")
    if max_per_range is not None and max_per_range < 1:
        raise ConfigError(f"max frames per range must be >= 1, got {max_per_range}")
    arr = _check_ranges(ranges)
    times = [_fps_times(s, e, fps, max_per_range) for s, e in arr]
    ids = [np.full(len(t), i, np.int64) for i, t in enumerate(times)]
    return _concat(times, ids)


def _concat(times: list[np.ndarray], ids: list[np.ndarray]) -> SamplePlan:
    if not times:
        return SamplePlan(np.zeros(0, np.float64), np.zeros(0, np.int64))
    return SamplePlan(np.concatenate(times), np.concatenate(ids))


@dataclass
class SampledFrames:
    """The frames a plan selected, in plan order.

    ``images`` is [N, H, W, 3] uint8 for rgb24 ([N, H, W] gray), or a list when sizes differ (or for
    planar yuv420p with mixed sizes). ``times_s`` are the frames' own PTS times, ``indices`` their
    output-order frame numbers, ``range_ids`` the plan's range per target, ``target_times`` the plan.
    """

    images: np.ndarray | list[np.ndarray]
    times_s: np.ndarray
    indices: np.ndarray
    range_ids: np.ndarray
    target_times: np.ndarray
    stats: DecodeStats

    def __len__(self) -> int:
        return len(self.indices)


class _Picker:
    """Converts each selected frame once and remembers (index, time, image) by frame index."""

    def __init__(self, make_spec: Callable[[VideoFrame], OutputSpec], stats: DecodeStats) -> None:
        self.make_spec, self.stats = make_spec, stats
        self.convert: FrameConverter | None = None
        self.frames: dict[int, tuple[float, np.ndarray]] = {}

    def take(self, index: int, time_s: float, frame: VideoFrame) -> int:
        if index not in self.frames:
            self.convert = self.convert or FrameConverter(self.make_spec(frame))
            self.frames[index] = (time_s, self.convert(frame))
            self.stats.frames_converted += 1
        return index


class _SeekMiss(Exception):
    """A forward jump did not deliver the frame the packet scan promised."""


def _stream_pass(
    container: InputContainer, stream: VideoStream, targets: np.ndarray, picker: _Picker, stats: DecodeStats
) -> list[int]:
    """No jumps: walk frames in order, giving each sorted target the frame presenting at its time."""
    clock, chosen, j = FrameClock(stream), [], 0
    prev: tuple[int, float, VideoFrame] | None = None
    for index, frame in enumerate(iter_av_frames(container, stream, stats)):
        t = clock.time(frame)
        while j < len(targets) and targets[j] < t:
            chosen.append(picker.take(*(prev or (index, t, frame))))
            j += 1
        if j == len(targets):
            return chosen
        prev = (index, t, frame)
    if prev is not None:
        chosen.extend(picker.take(*prev) for _ in range(len(targets) - j))
    return chosen


@dataclass(frozen=True)
class _Timeline:
    """Frame times from a packet scan: the map from target time to frame and to its keyframe."""

    pts: np.ndarray
    times: np.ndarray
    scan: PacketScan

    @staticmethod
    def build(scan: PacketScan, stream: VideoStream) -> _Timeline:
        start = stream.start_time if stream.start_time is not None else int(scan.pts[0])
        return _Timeline(scan.pts, (scan.pts - start) * float(stream.time_base), scan)

    def frame_for(self, targets: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.times, targets, side="right") - 1, 0, len(self.pts) - 1)

    def keyframe_before(self, pts: int) -> int | None:
        """PTS of the last keyframe presented at or before ``pts``."""
        k = int(np.searchsorted(self.scan.keyframe_pts, pts, side="right")) - 1
        return None if k < 0 else int(self.scan.keyframe_pts[k])


class _PlannedPass:
    """Decode only towards the wanted frames a packet scan located: jump forward to the keyframe
    before the next wanted frame over long stretches, and (``skip_nonref``) let the decoder drop the
    non-reference frames nobody wants (no later frame depends on them, so nothing else changes)."""

    def __init__(
        self, container: InputContainer, stream: VideoStream, timeline: _Timeline, wanted: np.ndarray,
        picker: _Picker, threshold_s: float | None, skip_nonref: bool,
    ) -> None:
        self.container, self.stream, self.timeline, self.picker = container, stream, timeline, picker
        self.wanted = wanted
        self.wanted_pts = [int(p) for p in timeline.pts[wanted]]
        self.skip_nonref = skip_nonref
        self.threshold_ticks = math.inf if threshold_s is None else threshold_s / float(stream.time_base)

    def run(self) -> None:
        i, here = 0, int(self.timeline.pts[0])
        while i < len(self.wanted):
            jump = self._jump_to(here, i)
            if jump is not None:
                self.container.seek(jump, stream=self.stream, backward=True)
                self.picker.stats.seeks += 1
            i, here = self._decode_run(i)

    def _jump_to(self, here_pts: int, i: int) -> int | None:
        """The keyframe PTS to seek to before decoding wanted frame ``i``, or None to keep decoding.

        Seeking takes the keyframe's PTS, not its DTS: MP4 seeks by presentation time, and its DTS
        (earlier by the reordering delay) lands on the keyframe before."""
        key = self.timeline.keyframe_before(self.wanted_pts[i])
        return key if key is not None and key - here_pts > self.threshold_ticks else None

    def _frames(self) -> Iterator[VideoFrame]:
        """Decoded frames from the current position, asking the decoder to drop unwanted non-ref frames."""
        stats, codec = self.picker.stats, self.stream.codec_context
        wanted, skipping = set(self.wanted_pts), False
        packets = self.container.demux(self.stream)
        while (packet := next_packet(packets, stats)) is not None and packet.size:
            stats.packets += 1
            skip = self.skip_nonref and packet.pts not in wanted
            if skip != skipping:
                codec.skip_frame, skipping = ("NONREF" if skip else "DEFAULT"), skip
            yield from tally(decode_packet(self.stream, packet, stats), stats)
        codec.skip_frame = "DEFAULT"
        yield from tally(decode_packet(self.stream, None, stats), stats)

    def _decode_run(self, i: int) -> tuple[int, int]:
        """Take wanted frames from the current position until a jump pays off; (next i, pts here)."""
        for frame in self._frames():
            want = self.wanted_pts[i]
            if frame.pts is None or frame.pts > want:
                raise _SeekMiss(f"expected pts {want}, decoder gave {frame.pts}")
            if frame.pts < want:
                continue
            self.picker.take(int(self.wanted[i]), float(self.timeline.times[self.wanted[i]]), frame)
            i += 1
            if i == len(self.wanted) or self._jump_to(want, i) is not None:
                return i, want
        raise _SeekMiss(f"stream ended before pts {self.wanted_pts[i]}")


def _scan(path: str | os.PathLike[str]) -> PacketScan | None:
    with av.open(str(path), metadata_errors="ignore") as container:
        scan = scan_packets(container, container.streams.video[0])
    return scan if scan is not None and len(scan.pts) else None


def _sample_planned(
    path: str | os.PathLike[str], targets: np.ndarray, picker: _Picker, threshold_s: float | None,
    skip_nonref: bool, threads: int | None,
) -> list[int] | None:
    """The scan-guided pass; None when it cannot be used or missed a frame (the caller streams)."""
    scan = _scan(path)
    if scan is None:
        return None
    container, stream = open_decoder(path, threads)
    try:
        timeline = _Timeline.build(scan, stream)
        frame_of_target = timeline.frame_for(targets)
        wanted = np.unique(frame_of_target)
        _PlannedPass(container, stream, timeline, wanted, picker, threshold_s, skip_nonref).run()
    except _SeekMiss as exc:
        picker.stats.add_error(f"scan-guided pass fell back to a full pass: {exc}")
        picker.frames.clear()
        return None
    finally:
        container.close()
    return [int(k) for k in frame_of_target]


def _sample_streaming(
    path: str | os.PathLike[str],
    targets: np.ndarray,
    picker: _Picker,
    stats: DecodeStats,
    threads: int | None,
) -> list[int]:
    container, stream = open_decoder(path, threads)
    try:
        return _stream_pass(container, stream, targets, picker, stats)
    finally:
        container.close()


def _stack(images: list[np.ndarray]) -> np.ndarray | list[np.ndarray]:
    if images and all(im.shape == images[0].shape for im in images):
        return np.stack(images)
    return images


def sample_frames(
    path: str | os.PathLike[str],
    plan: SamplePlan,
    size: tuple[int, int] | None = None,
    short_side: int | None = None,
    max_width: int | None = None,
    fmt: FrameFormat = "rgb24",
    seek_threshold_s: float | None = DEFAULT_SEEK_THRESHOLD_S,
    skip_unwanted: bool = True,
    threads: int | None = None,
    autorotate: bool = True,
    backend: str = "pyav",
    device_frames: bool = False,
) -> SampledFrames:
    """Fetch the frames a plan asks for in one forward pass over ``path`` (see the module docstring).

    Output size and format work as in :func:`vidfast.io.decode`. ``seek_threshold_s`` is the least
    stretch of video (seconds) worth jumping over (None: never jump); ``skip_unwanted`` lets the
    decoder drop non-reference frames that are not wanted. With neither, every frame is decoded (the
    reference pass). Raises DecodeError when the video cannot be opened or nothing decodes.

    ``backend`` (``decode.backend``): ``pyav`` (this module), or ``dali`` / ``nvdec`` / ``auto``
    (``vidfast.io.gpu_decode``: the same frames, decoded by DALI or NVDEC; rgb24 only). GPU-decoded
    frames come back as a CUDA torch tensor with ``device_frames``, else as numpy.
    """
    if backend != "pyav":
        from vidfast.io.gpu_decode import resolve_backend, sample_frames_gpu

        name, device = resolve_backend(backend)
        if name != "pyav":
            if fmt != "rgb24":
                raise ConfigError(f"decode.backend={backend} delivers rgb24 frames only, not {fmt}; use pyav")
            out = sample_frames_gpu(path, plan, name, device, size, short_side, max_width, autorotate)
            if not device_frames and not isinstance(out.images, np.ndarray):
                out.images = out.images.cpu().numpy()
            return out
    stats, t0 = DecodeStats(), time.perf_counter()
    container, stream = open_decoder(path, threads)
    sar = float(stream.sample_aspect_ratio) if stream.sample_aspect_ratio else 1.0
    container.close()
    picker = _Picker(lambda f: make_output_spec(f, sar, size, short_side, max_width, fmt, autorotate), stats)
    order = np.argsort(plan.times, kind="stable")
    sorted_targets = plan.times[order] + TIME_EPS_S
    chosen = None
    if len(plan) and (seek_threshold_s is not None or skip_unwanted):
        chosen = _sample_planned(path, sorted_targets, picker, seek_threshold_s, skip_unwanted, threads)
    if chosen is None and len(plan):
        chosen = _sample_streaming(path, sorted_targets, picker, stats, threads)
    if len(plan):
        finish(stats, path, t0)
    stats.seconds = time.perf_counter() - t0
    return _assemble(plan, order, chosen or [], picker)


def _assemble(plan: SamplePlan, order: np.ndarray, chosen: list[int], picker: _Picker) -> SampledFrames:
    indices = np.zeros(len(plan), np.int64)
    indices[order] = chosen
    times = np.array([picker.frames[int(k)][0] for k in indices], np.float64)
    images = [picker.frames[int(k)][1] for k in indices]
    return SampledFrames(_stack(images), times, indices, plan.range_ids, plan.times, picker.stats)
