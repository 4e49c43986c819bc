"""LLM stages: ``CaptionsStage`` (human captions per video), ``LLMStage`` (the batched contract),
``VideoChatGPTQAStage``, ``DenseCaptionStage`` (+ ``PredictionsDirStage``), ``VideoChatStage``,
``VideoChat2MCQStage``, ``JudgeStage``."""

from __future__ import annotations

from vidfast.stages.generate.base import LLMStage
from vidfast.stages.generate.captions import CaptionsStage
from vidfast.stages.generate.dense_caption import DenseCaptionStage, PredictionsDirStage
from vidfast.stages.generate.judge import JudgeStage
from vidfast.stages.generate.videochat import VideoChatStage
from vidfast.stages.generate.videochat2 import VideoChat2MCQStage
from vidfast.stages.generate.videochatgpt import VideoChatGPTQAStage

__all__ = [
    "CaptionsStage",
    "DenseCaptionStage",
    "JudgeStage",
    "LLMStage",
    "PredictionsDirStage",
    "VideoChat2MCQStage",
    "VideoChatGPTQAStage",
    "VideoChatStage",
]
