"""Write a synthetic video with known scenes, cuts, fades and frame times, plus its JSON sidecar.

Scenes follow each other through hard cuts, except (with ``fade``) one cross-dissolve. Every frame
carries motion and noise; optionally its own index as a block code (see ``vidfast.synth.code``).
The sidecar ``<out>.json`` records the truth that tests and benchmarks check against.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from vidfast.errors import ConfigError
from vidfast.synth.code import draw_code
from vidfast.synth.content import SCENE_KINDS, Grid, SceneKind

CODECS: dict[str, str] = {"h264": "libx264", "vp9": "libvpx-vp9", "mjpeg": "mjpeg"}
CONTAINERS: dict[str, tuple[str, tuple[str, ...]]] = {
    ".mp4": ("mp4", ("h264", "vp9")),
    ".mkv": ("matroska", ("h264", "vp9", "mjpeg")),
    ".webm": ("webm", ("vp9",)),
    ".avi": ("avi", ("mjpeg", "h264")),
}
AUDIO_CODECS: dict[str, str] = {".mp4": "aac", ".mkv": "aac", ".webm": "libopus", ".avi": "pcm_s16le"}
_VFR_TICKS_PER_S = 1000  # VFR frame times are whole milliseconds: exact in MP4 and Matroska alike
_VFR_FACTORS = (0.5, 1.0, 1.5)
_MIN_SCENE_FRAMES = 8
_AUDIO_RATE = 48000


@dataclass(frozen=True)
class SynthOptions:
    """What to generate. ``size`` is (width, height); ``gop`` None keeps the encoder default."""

    duration: float = 5.0
    fps: float = 25.0
    size: tuple[int, int] = (320, 180)
    codec: str = "h264"
    scenes: int = 4
    fade: bool = True
    fade_s: float = 1.0
    vfr: bool = False
    noise: float = 6.0
    seed: int = 0
    audio: bool = False
    crf: int = 23
    gop: int | None = None
    preset: str = "ultrafast"
    index_code: bool = False
    rotation: int = 0  # clockwise degrees stored in the display matrix (0, 90, 180, 270)
    faststart: bool = False  # MP4: index (moov) before the data


@dataclass(frozen=True)
class SceneTruth:
    """One scene: inclusive frame range, its time span and a true description."""

    start_frame: int
    end_frame: int
    start_sec: float
    end_sec: float
    description: str
    kind: str


@dataclass(frozen=True)
class SynthTruth:
    """The sidecar: everything a test can check about the generated video."""

    video: str
    fps: float
    frame_count: int
    duration: float
    size: tuple[int, int]
    codec: str
    vfr: bool
    cuts: list[int]
    fades: list[list[int]]
    scenes: list[SceneTruth]
    frame_times: list[float] | None = None
    seed: int = 0
    index_code: bool = False
    audio: bool = False
    rotation: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``frame_times`` only for VFR video)."""
        doc = asdict(self)
        doc["size"] = list(self.size)
        if not self.vfr:
            doc.pop("frame_times")
        return doc

    @staticmethod
    def from_dict(doc: dict[str, Any]) -> SynthTruth:
        """Rebuild from the JSON form."""
        fields = dict(doc)
        fields["scenes"] = [SceneTruth(**s) for s in doc["scenes"]]
        fields["size"] = tuple(doc["size"])
        return SynthTruth(**fields)


def load_truth(path: str | os.PathLike[str]) -> SynthTruth:
    """Load a sidecar; pass the video path or the ``.json`` path."""
    p = Path(path)
    p = p if p.suffix == ".json" else Path(str(p) + ".json")
    return SynthTruth.from_dict(json.loads(p.read_text()))


def validate(out: Path, opts: SynthOptions) -> str:
    """Check the options against the output extension; returns the container format name."""
    ext = out.suffix.lower()
    if ext not in CONTAINERS:
        raise ConfigError(f"{out}: unsupported extension {ext!r}; use one of {', '.join(CONTAINERS)}")
    fmt, codecs = CONTAINERS[ext]
    if opts.codec not in CODECS:
        raise ConfigError(f"unknown codec {opts.codec!r}; valid: {', '.join(CODECS)}")
    if opts.codec not in codecs:
        raise ConfigError(f"codec {opts.codec} cannot go in {ext}; {ext} takes {', '.join(codecs)}")
    if opts.vfr and ext == ".avi":
        raise ConfigError("variable frame rate needs .mp4, .mkv or .webm (AVI has no per-frame timestamps)")
    w, h = opts.size
    if w < 16 or h < 16 or w % 2 or h % 2:
        raise ConfigError(f"size must be even and at least 16x16, got {w}x{h}")
    if opts.fps <= 0 or opts.duration <= 0 or opts.scenes < 1:
        raise ConfigError("fps, duration and scenes must be positive")
    if opts.rotation % 90:
        raise ConfigError(f"rotation must be a multiple of 90 degrees, got {opts.rotation}")
    return fmt


@dataclass(frozen=True)
class _Timeline:
    pts: np.ndarray  # int64 ticks
    durations: np.ndarray  # int64 ticks per frame
    time_base: Fraction
    times: np.ndarray  # seconds
    duration: float


def _timeline(opts: SynthOptions, rng: np.random.Generator) -> _Timeline:
    if not opts.vfr:
        rate = Fraction(opts.fps).limit_denominator(1001)
        n = max(1, round(opts.duration * opts.fps))
        pts = np.arange(n, dtype=np.int64)
        return _Timeline(pts, np.ones(n, np.int64), 1 / rate, pts / float(rate), n / float(rate))
    nominal = _VFR_TICKS_PER_S / opts.fps
    total = round(opts.duration * _VFR_TICKS_PER_S)
    steps = np.maximum(1, np.round(nominal * rng.choice(_VFR_FACTORS, size=int(2 * total / nominal) + 2)))
    pts = np.concatenate([[0], np.cumsum(steps)]).astype(np.int64)
    pts = pts[pts < total]
    durations = steps[: len(pts)].astype(np.int64)
    durations[-1] = max(1, round(nominal))  # muxers give the last frame the nominal duration
    end = int(pts[-1] + durations[-1])
    ticks = _VFR_TICKS_PER_S
    return _Timeline(pts, durations, Fraction(1, ticks), pts / ticks, end / ticks)


def _boundaries(n: int, scenes: int, rng: np.random.Generator) -> list[int]:
    """First frame of scenes 1..scenes-1: equal split with +-15% jitter."""
    if n < scenes * _MIN_SCENE_FRAMES:
        raise ConfigError(
            f"{n} frames are too few for {scenes} scenes; raise --duration or --fps, or lower --scenes"
        )
    step = n / scenes
    jitter = rng.uniform(-0.15, 0.15, size=scenes - 1) * step
    return [int(round((i + 1) * step + j)) for i, j in enumerate(jitter)]


def _fade_span(bounds: list[int], n: int, opts: SynthOptions) -> tuple[int, int, int] | None:
    """(boundary index, first, last frame) of the cross-dissolve, or None."""
    if not opts.fade or not bounds:
        return None
    b = len(bounds) // 2
    edges = [0, *bounds, n]
    room = min(edges[b + 1] - edges[b], edges[b + 2] - edges[b + 1]) - 2
    length = min(max(2, round(opts.fade_s * opts.fps)), room)
    if length < 2:
        return None
    first = bounds[b] - length // 2
    return b, first, first + length - 1


@dataclass(frozen=True)
class _Scene:
    kind: SceneKind
    flip: bool
    truth: SceneTruth

    def render(self, grid: Grid, t: float) -> np.ndarray:
        span = max(1e-6, self.truth.end_sec - self.truth.start_sec)
        local = t - self.truth.start_sec
        return self.kind.render(grid, local, local / span, self.flip)


@dataclass(frozen=True)
class _Layout:
    scenes: list[_Scene]
    cuts: list[int]
    fade: tuple[int, int, int] | None  # (index of the scene it leads into - 1, first frame, last frame)

    def scene_at(self, k: int) -> _Scene:
        return next(s for s in self.scenes if s.truth.start_frame <= k <= s.truth.end_frame)


def _layout(
    n: int, times: np.ndarray, duration: float, opts: SynthOptions, rng: np.random.Generator
) -> _Layout:
    bounds = _boundaries(n, opts.scenes, rng)
    fade = _fade_span(bounds, n, opts)
    edges = [0, *bounds, n]
    ends = [*times[bounds].tolist(), duration]
    scenes = []
    for i in range(opts.scenes):
        kind = SCENE_KINDS[(opts.seed + i) % len(SCENE_KINDS)]
        flip = bool(rng.integers(2))
        truth = SceneTruth(
            edges[i], edges[i + 1] - 1, float(times[edges[i]]), float(ends[i]), kind.describe(flip), kind.name
        )
        scenes.append(_Scene(kind, flip, truth))
    cuts = [b for i, b in enumerate(bounds) if fade is None or i != fade[0]]
    return _Layout(scenes, cuts, fade)


def _noise_bank(opts: SynthOptions, rng: np.random.Generator) -> list[np.ndarray]:
    w, h = opts.size
    if opts.noise <= 0:
        return [np.zeros((h, w, 1), np.float32)]
    return [rng.normal(0, opts.noise, size=(h, w, 3)).astype(np.float32) for _ in range(7)]


def _frame_image(
    k: int, t: float, layout: _Layout, grid: Grid, noise: list[np.ndarray], opts: SynthOptions
) -> np.ndarray:
    fade = layout.fade
    if fade is not None and fade[1] <= k <= fade[2]:
        before, after = layout.scenes[fade[0]], layout.scenes[fade[0] + 1]
        alpha = (k - fade[1] + 1) / (fade[2] - fade[1] + 2)
        img = (1 - alpha) * before.render(grid, t) + alpha * after.render(grid, t)
    else:
        img = layout.scene_at(k).render(grid, t)
    img = np.clip(img + noise[k % len(noise)], 0, 255).astype(np.uint8)
    if opts.index_code:
        draw_code(img, k)
    return img


def _add_video_stream(
    container: av.container.OutputContainer, opts: SynthOptions, tl: _Timeline
) -> av.video.stream.VideoStream:
    codec = CODECS[opts.codec]
    rate = Fraction(opts.fps).limit_denominator(1001)
    stream = container.add_stream(codec, rate=rate)
    stream.width, stream.height = opts.size
    stream.pix_fmt = "yuvj420p" if opts.codec == "mjpeg" else "yuv420p"
    stream.time_base = tl.time_base
    stream.codec_context.time_base = tl.time_base
    if opts.gop:
        stream.codec_context.gop_size = opts.gop
    stream.options = _codec_options(opts)
    if opts.codec == "mjpeg":
        stream.bit_rate = int(opts.size[0] * opts.size[1] * opts.fps * 1.5)
    if opts.rotation:
        stream.set_display_rotation(-opts.rotation)  # PyAV takes counter-clockwise degrees
    return stream


def _codec_options(opts: SynthOptions) -> dict[str, str]:
    if opts.codec == "h264":
        return {"preset": opts.preset, "crf": str(opts.crf)}
    if opts.codec == "vp9":
        crf = str(min(63, opts.crf + 8))
        return {"deadline": "realtime", "cpu-used": "8", "crf": crf, "b": "0", "row-mt": "1"}
    return {}


class _AudioWriter:
    """A quiet 440 Hz tone, encoded in step with the video so the muxer can interleave."""

    def __init__(self, container: av.container.OutputContainer, ext: str) -> None:
        self.stream = container.add_stream(AUDIO_CODECS[ext], rate=_AUDIO_RATE)
        self.stream.layout = "mono"
        self.fmt = self.stream.codec_context.codec.audio_formats[0].name
        self.samples = 0
        self.container = container

    def write_until(self, seconds: float) -> None:
        chunk = self.stream.codec_context.frame_size or 1024
        while self.samples < seconds * _AUDIO_RATE:
            t = (self.samples + np.arange(chunk)) / _AUDIO_RATE
            wave = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            data = (wave * 32767).astype(np.int16) if self.fmt.startswith("s16") else wave
            frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format=self.fmt, layout="mono")
            frame.sample_rate, frame.pts = _AUDIO_RATE, self.samples
            self.container.mux(self.stream.encode(frame))
            self.samples += chunk

    def close(self) -> None:
        self.container.mux(self.stream.encode(None))


def generate(out_path: str | os.PathLike[str], options: SynthOptions | None = None) -> SynthTruth:
    """Write the video to ``out_path`` (container from the extension) and ``<out_path>.json``."""
    opts = options or SynthOptions()
    out = Path(out_path)
    fmt = validate(out, opts)
    rng = np.random.default_rng(opts.seed)
    tl = _timeline(opts, rng)
    layout = _layout(len(tl.pts), tl.times, tl.duration, opts, rng)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    _encode(tmp, fmt, opts, tl, layout, rng)
    os.replace(tmp, out)
    truth = _truth(out, opts, tl, layout)
    _write_json(Path(str(out) + ".json"), truth.to_dict())
    return truth


def _encode(
    tmp: Path, fmt: str, opts: SynthOptions, tl: _Timeline, layout: _Layout, rng: np.random.Generator
) -> None:
    grid, noise = Grid.make(*opts.size), _noise_bank(opts, rng)
    container_opts = {"movflags": "+faststart"} if opts.faststart and fmt == "mp4" else {}
    with av.open(str(tmp), "w", format=fmt, options=container_opts) as container:
        stream = _add_video_stream(container, opts, tl)
        audio = _AudioWriter(container, tmp.suffix.lower()) if opts.audio else None
        to_yuv = VideoReformatter()
        for k, (pts, dur, t) in enumerate(zip(tl.pts.tolist(), tl.durations.tolist(), tl.times.tolist())):
            image = _frame_image(k, t, layout, grid, noise, opts)
            rgb = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame = to_yuv.reformat(rgb, format=stream.pix_fmt, threads=1)
            frame.pts, frame.duration, frame.time_base = pts, dur, tl.time_base
            container.mux(stream.encode(frame))
            if audio is not None:
                audio.write_until(t)
        container.mux(stream.encode(None))
        if audio is not None:
            audio.write_until(tl.duration)
            audio.close()


def _truth(out: Path, opts: SynthOptions, tl: _Timeline, layout: _Layout) -> SynthTruth:
    n, fade = len(tl.pts), layout.fade
    return SynthTruth(
        video=out.name,
        fps=n / tl.duration if opts.vfr else float(Fraction(opts.fps).limit_denominator(1001)),
        frame_count=n, duration=tl.duration, size=opts.size, codec=opts.codec, vfr=opts.vfr,
        cuts=layout.cuts, fades=[[fade[1], fade[2]]] if fade else [],
        scenes=[s.truth for s in layout.scenes],
        frame_times=[round(t, 6) for t in tl.times.tolist()] if opts.vfr else None,
        seed=opts.seed, index_code=opts.index_code, audio=opts.audio, rotation=opts.rotation % 360,
    )


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)

