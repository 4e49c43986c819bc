"""Caption-family stages: ``CaptionStage`` (BLIP-2 captions of merged-scene frames),
``KeyFramesStage`` (uniform key frames, transient) and ``FrameCaptionStage`` (BLIP-2 captions of them)."""

from vidfast.stages.caption.blip2 import CaptionStage, FrameCaptionStage
from vidfast.stages.caption.keyframes import KeyFramesStage

__all__ = ["CaptionStage", "FrameCaptionStage", "KeyFramesStage"]
