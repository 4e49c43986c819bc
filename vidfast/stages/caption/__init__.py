"""Caption-family stages: ``CaptionStage`` (BLIP-2 captions of merged-scene frames) and
``FrameCaptionStage`` (BLIP-2 captions of key frames)."""

from vidfast.stages.caption.blip2 import CaptionStage, FrameCaptionStage

__all__ = ["CaptionStage", "FrameCaptionStage"]
