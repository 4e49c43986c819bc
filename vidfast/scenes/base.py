"""The shot-detection family contract: scene lists, frame clocks, score backends, detectors.

A detection run is: one streaming decode at the detector's resolution -> per-frame scores from a
score backend (native, CUDA or reference, all computing the same numbers) -> a detector's O(T)
decision pass over the score arrays -> a SceneList. Frame numbers follow PySceneDetect 0.7's PyAV
backend: frame n is the frame whose presentation time rounds to n at the stream's guessed rate,
which on variable-frame-rate video is not the decode index.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Union

import numpy as np

from vidfast.errors import ConfigError

# int = frames, float = seconds, str = "15" (frames) / "0.6s" / "0.6" / "00:00:00.600" (time).
TimecodeLike = Union[int, float, str]

COMPONENTS: tuple[str, ...] = ("delta_hue", "delta_sat", "delta_lum", "delta_edges")


@dataclass(frozen=True)
class FrameClock:
    """Presentation times of the decoded frames, as PySceneDetect's PyAV backend sees them.

    ``pts`` are frame PTS relative to the stream start (int64, one per decoded frame, in ``time_base``
    units); ``rate`` is the stream's guessed frame rate, which turns times into frame numbers.
    """

    pts: np.ndarray
    time_base: Fraction
    rate: Fraction

    def seconds(self, pts: np.ndarray | int) -> np.ndarray:
        """Exact-rational-then-rounded seconds (same float as ``float(Fraction(pts) * time_base)``)."""
        p = np.asarray(pts, dtype=np.int64)
        num, den = self.time_base.numerator, self.time_base.denominator
        if p.size and int(np.abs(p).max()) * num >= 2**53:
            return np.array([float(Fraction(int(x)) * self.time_base) for x in p.ravel()]).reshape(p.shape)
        return (p * num).astype(np.float64) / float(den)

    def frame_num(self, pts: np.ndarray | int) -> np.ndarray:
        """``round(seconds * rate)`` with Python's half-to-even rounding, as FrameTimecode.frame_num."""
        return np.rint(self.seconds(pts) * float(self.rate)).astype(np.int64)

    @property
    def frame_nums(self) -> np.ndarray:
        """Frame number of every decoded frame."""
        return self.frame_num(self.pts)

    def span(self, i: int, j: int) -> int:
        """PTS distance from decoded frame i to j, clamped at 0 like FrameTimecode subtraction."""
        return max(0, int(self.pts[j]) - int(self.pts[i]))

    def end_seconds(self) -> float:
        """End of the last frame: its time plus one nominal frame (scenedetect's ``last_pos + 1``)."""
        if not len(self.pts):
            return 0.0
        step = round(1.0 / float(self.rate) / float(self.time_base))  # FrameTimecode + 1
        return float(self.seconds(int(self.pts[-1]) + step))


@dataclass(frozen=True)
class MinLength:
    """A minimum scene length in frames or in seconds, compared the way PySceneDetect 0.7 does."""

    frames: int | None = None
    seconds: float | None = None

    @classmethod
    def parse(cls, value: TimecodeLike) -> MinLength:
        """int / digit string -> frames; float, "0.6s", "0.6" or "HH:MM:SS[.nnn]" -> seconds."""
        if isinstance(value, bool):
            raise ConfigError(f"min_scene_len must be frames (int) or a time (float/str), got {value!r}")
        if isinstance(value, int):
            return cls(frames=value)
        if isinstance(value, float):
            return cls(seconds=value)
        if isinstance(value, str):
            text = value.strip()
            if text.isdigit():
                return cls(frames=int(text))
            return cls(seconds=_parse_seconds(text))
        raise ConfigError(f"min_scene_len must be int (frames), float (seconds) or str, got {type(value).__name__}")

    @property
    def disabled(self) -> bool:
        """True when no minimum applies (scenedetect's FlashFilter is then a pass-through)."""
        return (self.seconds <= 0.0) if self.seconds is not None else (self.frames or 0) <= 0

    def met(self, clock: FrameClock, i: int, j: int) -> bool:
        """Whether decoded frame j lies at least this length after decoded frame i."""
        span = clock.span(i, j)
        if self.seconds is not None:
            return float(clock.seconds(span)) >= self.seconds
        return int(clock.frame_num(span)) >= (self.frames or 0)


def _parse_seconds(text: str) -> float:
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError(text)
            hrs, mins, secs = ([0.0] if len(parts) == 2 else []) + parts
            return hrs * 3600 + mins * 60 + secs
        return float(text[:-1] if text.endswith("s") else text)
    except ValueError:
        raise ConfigError(f"cannot read {text!r} as a time; use frames (15), seconds (0.6 / '0.6s') or "
                          "'HH:MM:SS.nnn'") from None


@dataclass
class SceneScores:
    """Per-frame debugging arrays: components [T, 4] (hue, sat, lum, edges), the weighted
    ``content_val`` [T], and for AdaptiveDetector the ``adaptive_ratio`` [T] (NaN where unscored)."""

    frame_nums: np.ndarray
    components: np.ndarray | None = None
    content_val: np.ndarray | None = None
    adaptive_ratio: np.ndarray | None = None
    transnet_single: np.ndarray | None = None
    transnet_many: np.ndarray | None = None


@dataclass
class SceneList:
    """Detected shots of one video.

    ``cuts``: frame number of the first frame of each new scene (PySceneDetect's cut list);
    ``scenes``: [[start_s, end_s], ...] and ``frame_ranges``: [[start_frame, end_frame), ...]
    covering the whole video (one scene when there is no cut — unlike PySceneDetect's default
    empty list, which silently drops single-shot videos downstream).
    """

    cuts: list[int]
    scenes: list[list[float]]
    frame_ranges: list[list[int]]
    fps: float
    frame_count: int
    detector: str
    backend: str
    params: dict[str, Any] = field(default_factory=dict)
    scores: SceneScores | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (scores left out)."""
        return {
            "cuts": self.cuts, "scenes": self.scenes, "frame_ranges": self.frame_ranges, "fps": self.fps,
            "frame_count": self.frame_count, "detector": self.detector, "backend": self.backend,
            "params": self.params,
        }


def build_scene_list(cut_indices: list[int], clock: FrameClock, detector: str, backend: str,
                     params: dict[str, Any], scores: SceneScores | None) -> SceneList:
    """SceneList from the decoded-frame indices where new scenes start."""
    frame_nums = clock.frame_nums
    n = len(frame_nums)
    starts = [0, *sorted(set(cut_indices))] if n else []
    seconds = clock.seconds(clock.pts) if n else np.zeros(0)
    end_s = clock.end_seconds()
    end_frame = int(frame_nums[-1]) + 1 if n else 0
    scenes, ranges = [], []
    for k, s in enumerate(starts):
        nxt = starts[k + 1] if k + 1 < len(starts) else None
        scenes.append([float(seconds[s]), float(seconds[nxt]) if nxt is not None else end_s])
        ranges.append([int(frame_nums[s]), int(frame_nums[nxt]) if nxt is not None else end_frame])
    return SceneList(
        cuts=[int(frame_nums[i]) for i in starts[1:]], scenes=scenes, frame_ranges=ranges,
        fps=float(clock.rate), frame_count=n, detector=detector, backend=backend, params=params, scores=scores,
    )


class ScoreBackend(abc.ABC):
    """Computes ContentDetector components for batches of downscaled BGR frames."""

    name: str = ""
    #: Whether delta_edges can be computed by this backend.
    supports_edges: bool = True

    @abc.abstractmethod
    def reason(self) -> str | None:
        """None when usable here, else why not and how to fix it."""

    @abc.abstractmethod
    def scores(self, frames: np.ndarray, prev: np.ndarray | None, with_edges: bool, kernel_size: int) -> np.ndarray:
        """float64 [N, 4] mean |delta| of (hue, sat, lum, edges) of frames [N,H,W,3] BGR against
        their predecessor (``prev`` for row 0; row 0 is zero without one). ``kernel_size`` 0 = auto."""


class SceneDetector(abc.ABC):
    """A cut decision rule over per-frame scores (cheap, O(T), on the CPU)."""

    name: str = ""

    @abc.abstractmethod
    def params(self) -> dict[str, Any]:
        """The detector's configuration, for records and benchmarks."""


def estimated_kernel_size(width: int, height: int) -> int:
    """scenedetect's edge dilation kernel: 4 + round(sqrt(w*h)/192), made odd."""
    size = 4 + round(math.sqrt(width * height) / 192)
    return size + 1 if size % 2 == 0 else size
