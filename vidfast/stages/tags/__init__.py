"""Tag-family stages: ``ZeroShotTagStage`` (Tag2Text/RAM-vocabulary tags of key frames by CLIP zero-shot)
and ``ModelTagStage`` (tags from a Tag2Text/RAM tagging model)."""

from vidfast.stages.tags.clip_zero_shot import ZeroShotTagStage
from vidfast.stages.tags.model_tagger import ModelTagStage

__all__ = ["ModelTagStage", "ZeroShotTagStage"]
