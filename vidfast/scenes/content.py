"""ContentDetector: PySceneDetect 0.7's fixed-threshold HSV(+edges) detector, as a decision pass
over per-frame component scores.

Frame score = (w_hue*d_hue + w_sat*d_sat + w_lum*d_lum + w_edges*d_edges) / sum(|w|), summed in
that order so the floats equal scenedetect's; a frame is "above" when score >= threshold; the
FlashFilter (MERGE or SUPPRESS) turns "above" frames into cuts that respect ``min_scene_len``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from vidfast.errors import ConfigError
from vidfast.scenes.base import FrameClock, MinLength, SceneDetector, TimecodeLike


class Components(NamedTuple):
    """Weights of the score components (scenedetect ``ContentDetector.Components``)."""

    delta_hue: float = 1.0
    delta_sat: float = 1.0
    delta_lum: float = 1.0
    delta_edges: float = 0.0


DEFAULT_WEIGHTS = Components()
LUMA_ONLY_WEIGHTS = Components(0.0, 0.0, 1.0, 0.0)


class FlashMode(enum.Enum):
    """How ``min_scene_len`` is enforced: MERGE cuts closer than it, or SUPPRESS the later ones."""

    MERGE = "merge"
    SUPPRESS = "suppress"


def content_values(components: np.ndarray, weights: Components) -> np.ndarray:
    """Weighted frame scores [T] from components [T, 4], in scenedetect's summation order."""
    total = np.zeros(len(components), dtype=np.float64)
    for k, w in enumerate(weights):
        total = total + components[:, k] * w
    denom = sum(abs(w) for w in weights)
    if denom == 0:
        raise ConfigError("weights must not all be zero")
    out = total / denom
    if len(out):
        out[0] = 0.0  # the first frame has no predecessor: scenedetect scores it 0.0 unweighted
    return out


class FlashFilter:
    """PySceneDetect 0.7 FlashFilter over decoded-frame indices (state machine, one call per frame)."""

    def __init__(self, mode: FlashMode, length: MinLength, clock: FrameClock) -> None:
        self.mode, self.length, self.clock = mode, length, clock
        self.last_above: int | None = None
        self.merge_enabled = False
        self.merge_triggered = False
        self.merge_start: int | None = None

    def step(self, i: int, above: bool) -> int | None:
        """Feed frame i; returns the index of a cut that this frame confirms, if any."""
        if self.length.disabled:
            return i if above else None
        if self.last_above is None:
            self.last_above = i
        if self.mode is FlashMode.SUPPRESS:
            if above and self.length.met(self.clock, self.last_above, i):
                self.last_above = i
                return i
            return None
        return self._merge(i, above)

    def _merge(self, i: int, above: bool) -> int | None:
        assert self.last_above is not None
        met = self.length.met(self.clock, self.last_above, i)
        if above:
            self.last_above = i
        if self.merge_triggered:
            assert self.merge_start is not None
            if met and not above and self.length.met(self.clock, self.merge_start, self.last_above):
                self.merge_triggered = False
                return self.last_above
            return None
        if not above:
            return None
        if met:
            self.merge_enabled = True
            return i
        if self.merge_enabled:
            self.merge_triggered = True
            self.merge_start = i
        return None


@dataclass
class ContentDetector(SceneDetector):
    """Fast cuts from HSV (and optionally edge) changes between consecutive frames.

    Defaults are PySceneDetect 0.7's: threshold 27, min_scene_len 15 frames, hue/sat/lum weights 1,
    edges 0, MERGE flash filter. ``kernel_size`` None = scenedetect's resolution-based dilation size.
    """

    threshold: float = 27.0
    min_scene_len: TimecodeLike = 15
    weights: Components = field(default_factory=Components)
    luma_only: bool = False
    kernel_size: int | None = None
    filter_mode: FlashMode = FlashMode.MERGE

    name = "content"

    def __post_init__(self) -> None:
        self.weights = LUMA_ONLY_WEIGHTS if self.luma_only else Components(*self.weights)
        check_kernel_size(self.kernel_size)
        self.filter_mode = FlashMode(self.filter_mode) if not isinstance(self.filter_mode, FlashMode) else self.filter_mode
        MinLength.parse(self.min_scene_len)

    @property
    def needs_edges(self) -> bool:
        """Edges are computed only when they are weighted (scenedetect skips them otherwise)."""
        return self.weights.delta_edges > 0.0

    def params(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "min_scene_len": self.min_scene_len, "weights": list(self.weights),
                "kernel_size": self.kernel_size, "filter_mode": self.filter_mode.value}

    def cut_indices(self, content_val: np.ndarray, clock: FrameClock) -> list[int]:
        """Decoded-frame indices where new scenes start."""
        flt = FlashFilter(self.filter_mode, MinLength.parse(self.min_scene_len), clock)
        above = content_val >= self.threshold
        cuts = []
        for i in range(len(content_val)):
            cut = flt.step(i, bool(above[i]))
            if cut is not None:
                cuts.append(cut)
        return sorted(set(cuts))


def check_kernel_size(kernel_size: int | None) -> None:
    """scenedetect's rule: None (auto) or an odd integer >= 3."""
    if kernel_size is not None and (kernel_size < 3 or kernel_size % 2 == 0):
        raise ConfigError(f"kernel_size must be None (auto) or an odd integer >= 3, got {kernel_size}")
