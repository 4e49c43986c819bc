"""Decode-family stages: ``ProbeStage`` (container and stream facts) and ``DecodeCheckStage``
(decode every frame, count corrupt ones)."""

from vidfast.stages.decode.probe import DecodeCheckStage, ProbeStage

__all__ = ["DecodeCheckStage", "ProbeStage"]
