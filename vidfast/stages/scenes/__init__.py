"""Scene-family stages: ``ShotStage`` (cut detection + scene rules)."""

from vidfast.stages.scenes.shots import ShotStage

__all__ = ["ShotStage"]
