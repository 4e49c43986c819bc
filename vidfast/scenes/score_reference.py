"""Reference score backend: numpy + OpenCV, written the way scenedetect computes its components.

HSV via ``cv2.cvtColor(BGR2HSV)``, edges via ``cv2.Canny`` + ``cv2.dilate`` (OpenCV is the
library scenedetect itself calls, so this backend is the test oracle for the native kernels),
and ``sum(|a - b|) / num_pixels`` with an int64 sum, frame by frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from vidfast.scenes.base import ScoreBackend, estimated_kernel_size


def hsv_planes(frame_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OpenCV 8-bit HSV planes (H in [0, 180), S, V in [0, 255]) of one BGR frame."""
    h, s, v = cv2.split(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2HSV))
    return h, s, v


def detect_edges(lum: np.ndarray, kernel_size: int = 0) -> np.ndarray:
    """scenedetect's ContentDetector edges: Canny with median-based thresholds, then a box dilation."""
    k = kernel_size or estimated_kernel_size(lum.shape[1], lum.shape[0])
    sigma = 1.0 / 3.0
    median = np.median(lum)
    low = int(max(0, (1.0 - sigma) * median))
    high = int(min(255, (1.0 + sigma) * median))
    return cv2.dilate(cv2.Canny(lum, low, high), np.ones((k, k), np.uint8))


def mean_pixel_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |a - b| over a 2-D uint8 plane, as an int64 sum over a float pixel count."""
    return float(np.sum(np.abs(a.astype(np.int32) - b.astype(np.int32))) / float(a.shape[0] * a.shape[1]))


class ReferenceScoreBackend(ScoreBackend):
    """numpy/OpenCV scores; always available; the oracle the native and CUDA kernels are checked against."""

    name = "reference"

    def reason(self) -> str | None:
        return None

    def scores(self, frames: np.ndarray, prev: np.ndarray | None, with_edges: bool, kernel_size: int) -> np.ndarray:
        out = np.zeros((len(frames), 4), dtype=np.float64)
        last = self._planes(prev, with_edges, kernel_size) if prev is not None else None
        for i, frame in enumerate(frames):
            cur = self._planes(frame, with_edges, kernel_size)
            if last is not None:
                out[i, :3] = [mean_pixel_distance(a, b) for a, b in zip(cur[:3], last[:3])]
                out[i, 3] = mean_pixel_distance(cur[3], last[3]) if with_edges else 0.0
            last = cur
        return out

    @staticmethod
    def _planes(frame: np.ndarray, with_edges: bool, kernel_size: int) -> tuple:
        h, s, v = hsv_planes(frame)
        return h, s, v, detect_edges(v, kernel_size) if with_edges else None
