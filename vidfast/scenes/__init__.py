"""Shot (scene-cut) detection: PySceneDetect-0.7-identical ContentDetector / AdaptiveDetector on
native kernels, and TransNetV2.

- ``detect_scenes(path, detector="content"|"adaptive"|"transnetv2", ...) -> SceneList``
- detectors: ``ContentDetector``, ``AdaptiveDetector``, ``TransNetV2Detector`` (decision rules over scores)
- score backends: ``cuda`` / ``native`` / ``reference`` (``available_score_backends()`` says which run here)
- contract types: ``SceneList``, ``SceneScores``, ``FrameClock``, ``MinLength`` (base.py)
"""

from vidfast.scenes.adaptive import AdaptiveDetector
from vidfast.scenes.base import FrameClock, MinLength, SceneList, SceneScores
from vidfast.scenes.content import Components, ContentDetector, FlashMode, content_values
from vidfast.scenes.detect import (
    DETECTORS,
    available_score_backends,
    choose_score_backend,
    content_components,
    detect_scenes,
)
from vidfast.scenes.transnetv2 import TransNetV2Detector

__all__ = [
    "DETECTORS",
    "AdaptiveDetector",
    "Components",
    "ContentDetector",
    "FlashMode",
    "FrameClock",
    "MinLength",
    "SceneList",
    "SceneScores",
    "TransNetV2Detector",
    "available_score_backends",
    "choose_score_backend",
    "content_components",
    "content_values",
    "detect_scenes",
]
