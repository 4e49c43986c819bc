"""Shared constants and helpers of the shot-detection tests (imported by conftest and the tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidfast import _native

SCORE_BACKENDS = ["reference"] + (["native"] if _native.HAS_NATIVE and hasattr(_native._C, "content_scores") else [])
CLIPS = ("counter.mp4", "fades.mp4", "goldeneye-vfr-drop3.mp4", "testvideo.mp4")
# golden name -> (vidfast detector, detect_scenes kwargs, scenedetect constructor kwargs)
PARAM_SETS = {
    "ContentDetector.default": ("content", {}, {}),
    "ContentDetector.t30": ("content", {"threshold": 30.0}, {"threshold": 30.0}),
    "AdaptiveDetector.default": ("adaptive", {}, {}),
    "AdaptiveDetector.t5": ("adaptive", {"threshold": 5.0}, {"adaptive_threshold": 5.0}),
}


def golden_cuts(clips: Path, clip: str, params: str) -> list[int]:
    return json.loads((clips / "goldens" / f"{clip}.{params}.json").read_text())["cuts"]


def scenedetect_run(path: Path, detector: str, stats: bool = False, **kwargs: object):  # noqa: ANN201
    """scenedetect with its PyAV backend: (cut frame numbers, StatsManager or None)."""
    sd = pytest.importorskip("scenedetect")
    video = sd.open_video(str(path), backend="pyav")
    manager = sd.SceneManager(sd.StatsManager() if stats else None)
    cls = sd.ContentDetector if detector == "content" else sd.AdaptiveDetector
    manager.add_detector(cls(**kwargs))
    manager.detect_scenes(video)
    return [c.frame_num for c in manager._get_cutting_list()], manager.stats_manager
