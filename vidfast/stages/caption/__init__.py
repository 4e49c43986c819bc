"""Caption-family stages: ``CaptionStage`` (BLIP-2 captions of merged-scene frames)."""

from vidfast.stages.caption.blip2 import CaptionStage

__all__ = ["CaptionStage"]
