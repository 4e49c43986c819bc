"""Decode-family stages: ``ProbeStage`` (container and stream facts), ``DecodeCheckStage`` (decode every
frame, count corrupt ones) and ``KeyFramesStage`` (uniform key frames per video, transient)."""

from vidfast.stages.decode.keyframes import KeyFramesStage
from vidfast.stages.decode.probe import DecodeCheckStage, ProbeStage

__all__ = ["DecodeCheckStage", "KeyFramesStage", "ProbeStage"]
