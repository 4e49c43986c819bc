"""Embedding-family stages: ``ClipSceneStage`` (frame embeddings, scene similarity, merge) and
``CaptionScoreStage`` (caption-to-scene CLIP scores)."""

from vidfast.stages.embed.clip import CaptionScoreStage, ClipSceneStage

__all__ = ["CaptionScoreStage", "ClipSceneStage"]
