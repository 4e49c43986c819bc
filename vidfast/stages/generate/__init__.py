"""LLM stages: ``CaptionsStage`` (human captions per video), ``LLMStage`` (the batched contract),
``VideoChatGPTQAStage``, ``VideoChatStage``, ``VideoChat2MCQStage``, ``JudgeStage``."""

from __future__ import annotations

from vidfast.stages.generate.base import LLMStage
from vidfast.stages.generate.captions import CaptionsStage
from vidfast.stages.generate.judge import JudgeStage
from vidfast.stages.generate.videochat import VideoChatStage
from vidfast.stages.generate.videochat2 import VideoChat2MCQStage
from vidfast.stages.generate.videochatgpt import VideoChatGPTQAStage

__all__ = [
    "CaptionsStage",
    "JudgeStage",
    "LLMStage",
    "VideoChat2MCQStage",
    "VideoChatGPTQAStage",
    "VideoChatStage",
]
