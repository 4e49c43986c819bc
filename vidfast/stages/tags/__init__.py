"""Tag-family stages: ``ZeroShotTagStage`` (Tag2Text/RAM-vocabulary tags of key frames by CLIP zero-shot)."""

from vidfast.stages.tags.clip_zero_shot import ZeroShotTagStage

__all__ = ["ZeroShotTagStage"]
