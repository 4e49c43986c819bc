"""Shot-detection scores from several decoders at once, each on its own stretch of the video.

One FFmpeg decoder with frame threads leaves cores idle on a 2-core machine (it used about 1.4 of
them on the bench clips) and spends CPU on its own hand-offs. Here the video is split at ``n``
keyframes that reset every reference (H.264/HEVC IDR pictures, VP8/VP9/AV1 key frames, intra-only
codecs); each stretch gets its own single-threaded decoder, and each decoder's thread also converts
and scores its frames (the native kernels release the GIL). One pass of the whole video costs less
CPU than decode-only with frame threads, and every core works.

The output equals the one-decoder pass, which stays the fallback: a stretch must start exactly on its
keyframe, and the stretches together must give one strictly increasing run of PTS. A decode error, a
frame without PTS, a frame size change, or a failed self-check of the fused conversion sends the video
to the one-decoder pass. The first frame of each later stretch is scored again against the last frame
of the stretch before it (its true predecessor).

An observer that can be split (``split()`` -> a fresh observer for one stretch, ``join(parts,
offsets)`` -> the whole; the grounding frame keeper, keeper.py) watches each stretch's batches on its
thread.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np

from vidfast.io.decode import DecodeStats, finish, iter_av_frames, open_decoder
from vidfast.scenes.base import FrameClock, ScoreBackend
from vidfast.scenes.convert import SmallBgrConverter
from vidfast.scenes.frames import FrameBatch, StreamFacts, _PtsNormalizer, stream_facts

# Codecs whose key frames (as the demuxer flags them) reset every reference; H.264 and HEVC also need
# an IDR NAL unit in the packet (a recovery-point I frame is flagged key but may be followed by frames
# that reference earlier ones).
_RESET_ON_KEY = frozenset({"vp8", "vp9", "av1", "mjpeg", "png", "prores", "dnxhd", "ffv1", "rawvideo"})
_IDR_NALS = {"h264": frozenset({5}), "hevc": frozenset({19, 20})}
MIN_SEGMENT_S = 20.0  # shorter stretches are not worth another decoder
MAX_SEGMENTS = 16


class _Fallback(Exception):
    """This video must take the one-decoder pass (the reason is kept for the report)."""


def default_segments() -> int:
    """Decoders to run at once: the cores this process may use (at most MAX_SEGMENTS)."""
    return max(1, min(MAX_SEGMENTS, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else (os.cpu_count() or 1)))


def _nal_types(codec: str, data: bytes, length_size: int | None) -> set[int]:
    """NAL unit types in one H.264/HEVC packet (length-prefixed as in MP4/MKV, or Annex B start codes)."""
    types: set[int] = set()

    def kind(b: int) -> int:
        return b & 0x1F if codec == "h264" else (b >> 1) & 0x3F

    if length_size:
        i = 0
        while i + length_size < len(data):
            n = int.from_bytes(data[i : i + length_size], "big")
            if n <= 0:
                break
            types.add(kind(data[i + length_size]))
            i += length_size + n
        return types
    i = data.find(b"\x00\x00\x01")
    while 0 <= i < len(data) - 3:
        types.add(kind(data[i + 3]))
        i = data.find(b"\x00\x00\x01", i + 3)
    return types


def _length_size(codec: str, extradata: bytes | None) -> int | None:
    """The NAL length-prefix size from avcC / hvcC extradata; None for Annex B streams."""
    if not extradata or extradata[0] != 1:
        return None
    if codec == "h264" and len(extradata) > 4:
        return (extradata[4] & 3) + 1
    if codec == "hevc" and len(extradata) > 21:
        return (extradata[21] & 3) + 1
    return None


def _resets(codec: str, packet: av.Packet, length_size: int | None) -> bool:
    if not packet.is_keyframe:
        return False
    if codec in _RESET_ON_KEY:
        return True
    idr = _IDR_NALS.get(codec)
    return bool(idr and _nal_types(codec, bytes(packet), length_size) & idr)


def split_points(path: str | os.PathLike[str], segments: int) -> list[int]:
    """PTS of up to ``segments - 1`` resetting keyframes that split the video into similar stretches
    (empty when the codec has none we trust, or the video is too short to be worth it)."""
    container, stream = open_decoder(path, 1)
    try:
        return _split_points(container, stream, segments)
    finally:
        container.close()


def _split_points(container: Any, stream: av.video.stream.VideoStream, segments: int) -> list[int]:
    codec = stream.codec_context.name
    if codec not in _RESET_ON_KEY and codec not in _IDR_NALS:
        return []
    tb = stream.time_base
    start = stream.start_time or 0
    if stream.duration and tb:
        duration = float(stream.duration * tb)
    elif container.duration:
        duration = container.duration / av.time_base
    else:
        return []
    n = min(segments, int(duration // MIN_SEGMENT_S))
    if n < 2 or not tb:
        return []
    length_size = _length_size(codec, stream.codec_context.extradata)
    points: set[int] = set()
    for i in range(1, n):
        target = start + int(duration * i / n / float(tb))
        try:
            container.seek(target, stream=stream, backward=True)
            packet = next((p for p in container.demux(stream) if p.pts is not None and p.size), None)
        except (av.FFmpegError, StopIteration):
            continue
        if packet is not None and packet.pts > start and _resets(codec, packet, length_size):
            points.add(int(packet.pts))
    return sorted(points)


@dataclass
class _Stretch:
    lo: int | None
    hi: int | None
    stats: DecodeStats = field(default_factory=DecodeStats)
    pts: list[np.ndarray] = field(default_factory=list)
    raw_pts: list[int] = field(default_factory=list)
    parts: list[np.ndarray] = field(default_factory=list)
    first: np.ndarray | None = None
    last: np.ndarray | None = None
    converter: SmallBgrConverter | None = None
    observer: Any = None
    error: BaseException | None = None


def _run_stretch(path: str | os.PathLike[str], st: _Stretch, facts: StreamFacts,
                 backend: ScoreBackend, with_edges: bool, kernel_size: int, batch: int, fused: bool) -> None:
    try:
        container, stream = open_decoder(path, 1)
        frames = iter_av_frames(container, stream, st.stats)
        try:
            if st.lo is not None:
                container.seek(st.lo, stream=stream, backward=True)
            normalize = _PtsNormalizer(stream)
            st.converter = conv = SmallBgrConverter(fused)
            images = np.empty((batch, *facts.out_size, 3), np.uint8)
            pts = np.empty(batch, np.int64)
            kept: list[av.VideoFrame] | None = [] if st.observer is not None else None
            if st.observer is not None:
                st.observer.start(facts)
            n, prev = 0, None
            for frame in frames:
                if frame.pts is None:
                    raise _Fallback("a frame has no PTS")
                if st.lo is not None and frame.pts < st.lo:
                    continue  # a leading picture of the stretch before (decoded there too)
                if st.hi is not None and frame.pts >= st.hi:
                    break
                if st.lo is not None and not st.raw_pts and frame.pts != st.lo:
                    raise _Fallback(f"the stretch at PTS {st.lo} starts at PTS {frame.pts}")
                if frame.width != facts.width or frame.height != facts.height:
                    raise _Fallback("the frame size changes")
                if st.raw_pts and frame.pts <= st.raw_pts[-1]:
                    raise _Fallback("PTS do not increase")
                st.raw_pts.append(frame.pts)
                pts[n] = normalize(frame)
                conv(frame, images[n])
                if kept is not None:
                    kept.append(frame)
                n += 1
                if n == batch:
                    prev = _score(st, images, pts, n, prev, backend, with_edges, kernel_size, kept)
                    images, pts, n = np.empty_like(images), np.empty_like(pts), 0
                    kept = [] if kept is not None else None
            if n:
                _score(st, images, pts, n, prev, backend, with_edges, kernel_size, kept)
        finally:
            frames.close()
            container.close()
        if st.stats.packets_corrupt or st.stats.frames_corrupt or st.stats.demux_failed:
            raise _Fallback("a decode error")
        if not conv.fused and fused and conv.fallback_reason:
            raise _Fallback(conv.fallback_reason)
    except BaseException as exc:  # handed to the caller's thread
        st.error = exc


def _score(st: _Stretch, images: np.ndarray, pts: np.ndarray, n: int, prev: np.ndarray | None,
           backend: ScoreBackend, with_edges: bool, kernel_size: int,
           frames: list[av.VideoFrame] | None = None) -> np.ndarray:
    if st.first is None:
        st.first = images[0].copy()
    st.parts.append(backend.scores(images[:n], prev, with_edges, kernel_size))
    st.pts.append(pts[:n].copy())
    st.last = images[n - 1]
    if st.observer is not None:
        st.observer.batch(FrameBatch(images[:n], st.pts[-1], frames), st.parts[-1])
    return images[n - 1]


def segmented_components(path: str | os.PathLike[str], backend: ScoreBackend, with_edges: bool, kernel_size: int,
                         downscale: float | None, batch: int, stats: DecodeStats | None, fused: bool,
                         segments: int, observer: Any = None) -> tuple[np.ndarray, FrameClock, StreamFacts] | None:
    """``content_components`` by several decoders at once, or None when this video must take the
    one-decoder pass (``stats`` and ``observer`` are then untouched). ``observer`` needs ``split`` /
    ``join`` (see the module docstring)."""
    if segments < 2 or (observer is not None and not hasattr(observer, "split")):
        return None
    t0 = time.perf_counter()
    container, stream = open_decoder(path, 1)
    try:  # the stream's facts and the split points from one open
        facts = stream_facts(stream, "scenedetect", downscale, fused)
        expected = stream.frames or 0
        points = _split_points(container, stream, segments)
    finally:
        container.close()
    if not points:
        return None
    bounds: list[int | None] = [None, *points, None]
    stretches = [_Stretch(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    if observer is not None:
        for st in stretches:
            st.observer = observer.split(len(stretches))
    args: tuple[Any, ...] = (facts, backend, with_edges, kernel_size, batch, fused)
    threads = [threading.Thread(target=_run_stretch, args=(path, st, *args), name=f"vidfast-scenes-{i}", daemon=True)
               for i, st in enumerate(stretches)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for st in stretches:
        if isinstance(st.error, _Fallback):
            return None
        if st.error is not None:
            raise st.error
        if not st.raw_pts:
            return None
    for a, b in zip(stretches, stretches[1:]):
        if a.raw_pts[-1] >= b.raw_pts[0]:
            return None
    # each later stretch's first frame against its true predecessor (the previous stretch's last frame)
    for a, b in zip(stretches, stretches[1:]):
        assert b.first is not None and a.last is not None
        b.parts[0][0] = backend.scores(b.first[None], a.last, with_edges, kernel_size)[0]
    stats = stats if stats is not None else DecodeStats()
    stats.expected_frames = expected
    for st in stretches:
        stats.frames_decoded += len(st.raw_pts)
        stats.packets += st.stats.packets
    facts.converter.fused_frames = sum(st.converter.fused_frames for st in stretches if st.converter)
    if observer is not None:
        offsets = np.cumsum([0] + [len(st.raw_pts) for st in stretches[:-1]]).tolist()
        observer.start(facts)
        observer.join([st.observer for st in stretches], offsets)
    components = np.concatenate([p for st in stretches for p in st.parts])
    pts = np.concatenate([p for st in stretches for p in st.pts])
    finish(stats, path, t0)
    return components, FrameClock(pts, facts.time_base, facts.rate), facts
