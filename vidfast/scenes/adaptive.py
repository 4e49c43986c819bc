"""AdaptiveDetector: PySceneDetect 0.7's rolling-ratio detector, as a decision pass over the
ContentDetector frame scores.

For each frame t with ``window_width`` frames on both sides, ratio = score[t] / mean(score of the
2*window_width neighbours) (capped at 255; 255 when the mean is ~0 and score[t] >= min_content_val).
A cut at t needs ratio >= adaptive_threshold, score[t] >= min_content_val and min_scene_len since
the previous cut (or the first frame). The last ``window_width`` frames are never judged, as in
scenedetect (it has no post-processing step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidfast.errors import ConfigError
from vidfast.scenes.base import FrameClock, MinLength, SceneDetector, TimecodeLike
from vidfast.scenes.content import LUMA_ONLY_WEIGHTS, Components, check_kernel_size

_ZERO_MEAN = 0.00001


@dataclass
class AdaptiveDetector(SceneDetector):
    """Cuts where a frame's content score stands out from its neighbours' (defaults = scenedetect 0.7)."""

    adaptive_threshold: float = 3.0
    min_scene_len: TimecodeLike = 15
    window_width: int = 2
    min_content_val: float = 15.0
    weights: Components = field(default_factory=Components)
    luma_only: bool = False
    kernel_size: int | None = None

    name = "adaptive"

    def __post_init__(self) -> None:
        if self.window_width < 1:
            raise ConfigError(f"window_width must be at least 1, got {self.window_width}")
        self.weights = LUMA_ONLY_WEIGHTS if self.luma_only else Components(*self.weights)
        check_kernel_size(self.kernel_size)
        MinLength.parse(self.min_scene_len)

    @property
    def needs_edges(self) -> bool:
        return self.weights.delta_edges > 0.0

    def params(self) -> dict[str, Any]:
        return {"adaptive_threshold": self.adaptive_threshold, "min_scene_len": self.min_scene_len,
                "window_width": self.window_width, "min_content_val": self.min_content_val,
                "weights": list(self.weights), "kernel_size": self.kernel_size}

    def ratios(self, content_val: np.ndarray) -> np.ndarray:
        """adaptive_ratio [T]; NaN for the first and last ``window_width`` frames (never judged)."""
        w, t = self.window_width, len(content_val)
        out = np.full(t, np.nan)
        if t < 2 * w + 1:
            return out
        centre = np.arange(w, t - w)
        total = np.zeros(len(centre))
        for off in range(-w, w + 1):  # left-to-right like scenedetect's sum() over its buffer
            if off:
                total = total + content_val[centre + off]
        mean = total / (2.0 * w)
        target = content_val[centre]
        zero = np.abs(mean) < _ZERO_MEAN
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(zero, 0.0, np.minimum(target / np.where(zero, 1.0, mean), 255.0))
        ratio[zero & (target >= self.min_content_val)] = 255.0
        out[centre] = ratio
        return out

    def cut_indices(self, content_val: np.ndarray, clock: FrameClock) -> list[int]:
        """Decoded-frame indices where new scenes start."""
        ratio = self.ratios(content_val)
        length = MinLength.parse(self.min_scene_len)
        if isinstance(self.min_scene_len, str) and length.frames is not None:
            # scenedetect compares a digit string here as a time: frames / rate seconds.
            length = MinLength(seconds=length.frames / float(clock.rate))
        hits = np.flatnonzero((ratio >= self.adaptive_threshold) & (content_val >= self.min_content_val))
        cuts, last = [], 0
        for i in hits:
            if length.met(clock, last, int(i)):
                cuts.append(int(i))
                last = int(i)
        return cuts
