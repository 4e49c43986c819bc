"""Region-family stages: ``RegionCaptionStage`` (GRiT-style dense captions: OWLv2 boxes, BLIP-2 captions of the crops)."""

from vidfast.stages.regions.owl_blip2 import RegionCaptionStage

__all__ = ["RegionCaptionStage"]
