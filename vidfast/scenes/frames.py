"""One streaming decode pass feeding the detectors: batches of small frames plus their PTS.

``scenedetect`` mode reproduces what PySceneDetect's SceneManager hands its detectors with the PyAV
backend, bit for bit: every frame converted by FFmpeg to full-size BGR24, then ``cv2.resize``
(INTER_LINEAR) to ``round(w / f) x round(h / f)`` with f = max(w, h) / 256 (auto downscale of
0.7.x, a float factor; no resize when the larger side is under 256). Frames whose size differs
from the first frame's are skipped, as scenedetect does. The small frames normally come from the
fused native kernel, which yields the same bytes several times cheaper and proves it per video
(convert.py). ``transnet`` mode scales straight to 48x27 RGB in FFmpeg (bicubic, what TransNetV2's
own ffmpeg pipe uses).

This is the one-decoder pass; segments.py runs several decoders on stretches of the video at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from vidfast.errors import ConfigError, DecodeError
from vidfast.io.decode import DecodeStats, finish, iter_av_frames, open_decoder
from vidfast.scenes.convert import SmallBgrConverter

DEFAULT_MIN_WIDTH = 256  # scenedetect.scene_manager.DEFAULT_MIN_WIDTH (0.7.x)
DEFAULT_BATCH = 32
TRANSNET_SIZE = (27, 48)  # (h, w)


def downscale_factor(width: int, height: int, downscale: float | None = None) -> float:
    """scenedetect 0.7 ``compute_downscale_factor(max(w, h))`` unless an explicit factor is given."""
    if downscale is not None:
        if downscale < 1:
            raise ConfigError(f"downscale must be >= 1 (1 = no scaling), got {downscale}")
        return float(downscale)
    side = max(width, height)
    return 1.0 if side < DEFAULT_MIN_WIDTH else side / float(DEFAULT_MIN_WIDTH)


def scaled_size(width: int, height: int, factor: float) -> tuple[int, int]:
    """(h, w) after scenedetect's resize: ``max(1, round(side / factor))`` (half-to-even)."""
    if factor <= 1.0:
        return height, width
    return max(1, round(height / factor)), max(1, round(width / factor))


@dataclass
class FrameBatch:
    """A run of consecutive decoded frames: images [n, h, w, 3] and PTS [n] (relative to stream start)."""

    images: np.ndarray
    pts: np.ndarray
    frames: list[av.VideoFrame] | None = None  # the decoded frames themselves (``keep_frames``)
    result: object = None  # what ``post`` returned for this batch


@dataclass
class StreamFacts:
    """What the detectors need about the stream besides the frames."""

    width: int
    height: int
    time_base: Fraction
    rate: Fraction
    out_size: tuple[int, int]
    converter: SmallBgrConverter | None = None
    sar: float = 1.0  # sample aspect ratio (1.0 when the stream has none)
    start_time: int | None = None  # stream start PTS (None when the container has none)


def stream_rate(stream: av.video.stream.VideoStream) -> Fraction:
    """scenedetect's PyAV frame rate: ``guessed_rate`` (else the codec frame rate) as a Fraction."""
    rate = stream.guessed_rate or stream.codec_context.framerate or stream.average_rate
    if not rate or float(rate) <= 1e-5:
        raise DecodeError("decode_failed", "the video stream reports no frame rate; re-mux it with an explicit "
                          "rate (ffmpeg -r) before detecting scenes")
    return Fraction(rate.numerator, rate.denominator)


class _PtsNormalizer:
    """PTS relative to the stream start, as scenedetect's ``VideoStreamAv._normalized_pts``."""

    def __init__(self, stream: av.video.stream.VideoStream) -> None:
        self.start = stream.start_time or 0
        self.stream_tb = stream.time_base
        self.next_guess = 0
        self.step = 1

    def __call__(self, frame: av.VideoFrame) -> int:
        if frame.pts is None:
            # scenedetect reports such frames at time 0; a steady step keeps cuts usable instead.
            self.next_guess += self.step
            return self.next_guess - self.step
        # Frames drained from the decoder at end of stream carry no time_base in PyAV; they are in
        # the stream's (container.decode, which scenedetect uses, fills it in).
        tb = frame.time_base or self.stream_tb
        start = self.start
        if start and self.stream_tb != tb:
            start = int(start * Fraction(self.stream_tb) / Fraction(tb))
        rel = int(frame.pts - start)
        if tb != self.stream_tb:  # keep every PTS in the stream time base the FrameClock uses
            rel = round(Fraction(rel) * Fraction(tb) / Fraction(self.stream_tb))
        self.next_guess = rel + self.step
        return rel


def _convert_transnet(reformatter: VideoReformatter, frame: av.VideoFrame, out: np.ndarray) -> None:
    small = reformatter.reformat(frame, TRANSNET_SIZE[1], TRANSNET_SIZE[0], "rgb24", interpolation="BICUBIC")
    out[...] = small.to_ndarray()


def stream_batches(path: str | os.PathLike[str], mode: str = "scenedetect", downscale: float | None = None,
                   batch: int = DEFAULT_BATCH, stats: DecodeStats | None = None,
                   threads: int | None = None, fused: bool = True, keep_frames: bool = False,
                   post: Callable[[FrameBatch], object] | None = None) -> tuple[StreamFacts, Iterator[FrameBatch]]:
    """Open ``path`` and return its facts and an iterator of converted frame batches (one pass).

    Frames are converted as they leave the decoder (FFmpeg's frame threads decode in parallel; a
    Python hand-off thread measured no faster on 2 cores). ``fused`` lets scenedetect-mode frames
    come from the self-checked native yuv420p kernel (convert.py); False forces FFmpeg BGR24 +
    cv2.resize for every frame. ``keep_frames`` hands the decoded frames on with each batch (for callers
    that convert a few of them again at another size, see keeper.py). ``post(batch)``, when given, runs
    right after a batch's conversion, in batch order; its value is ``batch.result``.
    """
    if mode not in ("scenedetect", "transnet"):
        raise ConfigError(f"unknown frame mode {mode!r}; valid: scenedetect, transnet")
    stats = stats if stats is not None else DecodeStats()
    container, stream = open_decoder(path, threads)
    facts = stream_facts(stream, mode, downscale, fused)
    stats.expected_frames = stream.frames or 0
    return facts, _batches(path, container, stream, facts, batch, stats, keep_frames, post)


def stream_facts(stream: av.video.stream.VideoStream, mode: str = "scenedetect", downscale: float | None = None,
                 fused: bool = True) -> StreamFacts:
    """The facts of an open stream; ``mode`` scenedetect gets the small-BGR converter."""
    cc = stream.codec_context
    w, h = cc.width, cc.height
    out_size = scaled_size(w, h, downscale_factor(w, h, downscale)) if mode == "scenedetect" else TRANSNET_SIZE
    return StreamFacts(w, h, Fraction(stream.time_base.numerator, stream.time_base.denominator),
                       stream_rate(stream), out_size, SmallBgrConverter(fused) if mode == "scenedetect" else None,
                       float(stream.sample_aspect_ratio) if stream.sample_aspect_ratio else 1.0, stream.start_time)


def _sized_frames(container, stream, stats: DecodeStats) -> Iterator[tuple[int, av.VideoFrame]]:  # noqa: ANN001
    """(pts, frame) in decode order, skipping frames whose size differs from the first (as scenedetect)."""
    normalize = _PtsNormalizer(stream)
    size = None
    for frame in iter_av_frames(container, stream, stats):
        if size is None:
            size = (frame.width, frame.height)
        elif (frame.width, frame.height) != size:
            stats.add_error(f"frame pts={frame.pts} has size {frame.width}x{frame.height}, expected "
                            f"{size[0]}x{size[1]}; skipped")
            continue
        yield normalize(frame), frame


def _batches(path, container, stream, facts, batch, stats, keep_frames=False, post=None) -> Iterator[FrameBatch]:  # noqa: ANN001
    t0 = time.perf_counter()
    source = _sized_frames(container, stream, stats)
    reformatter = VideoReformatter()
    try:
        images = np.empty((batch, *facts.out_size, 3), dtype=np.uint8)
        pts = np.empty(batch, dtype=np.int64)
        kept: list[av.VideoFrame] | None = [] if keep_frames else None
        n = 0
        for pts[n], frame in source:
            if facts.converter is not None:
                facts.converter(frame, images[n])
            else:
                _convert_transnet(reformatter, frame, images[n])
            if kept is not None:
                kept.append(frame)
            n += 1
            if n == batch:
                out = FrameBatch(images, pts, kept)
                if post is not None:
                    out.result = post(out)
                yield out
                images = np.empty((batch, *facts.out_size, 3), dtype=np.uint8)
                pts = np.empty(batch, dtype=np.int64)
                kept = [] if keep_frames else None
                n = 0
        if n:
            out = FrameBatch(images[:n], pts[:n], kept)
            if post is not None:
                out.result = post(out)
            yield out
    finally:
        source.close()
        container.close()
    finish(stats, path, t0)
