"""LLM tasks for vidfast: prompts as data, one engine contract, three backends, validation, dedup.

- ``types``: ``LLMRequest`` / ``Sampling`` / ``OutputSpec`` in, ``LLMResult`` out.
- ``base``: ``LLMEngine`` - batched ``generate`` with schema + item-count validation and bounded retries; ``TaskStats``.
- ``validate``: first-JSON-value extraction and answer checks (``OutputInvalid``).
- ``prompts``: ``prompts_dir``, ``load_prompt`` -> ``PromptSpec`` (placeholder checks, ``render``, ``request``).
- ``engine``: ``create_engine`` / ``pick_backend`` / ``backend_report`` (auto|transformers|vllm|openai).
- ``transformers_backend`` / ``vllm_backend`` / ``openai_http``: the backends, one file each.
- ``grammar``: llguidance JSON-schema token masks for the transformers backend's decode loop.
- ``models``: offline model lookup (the SmolLM2 GGUF, its cached HF copy).
- ``dedup``: near-duplicate QA removal with the MiniLM encoder.
"""

from __future__ import annotations

from vidfast.llm.base import LLMEngine, TaskStats
from vidfast.llm.engine import backend_report, create_engine, pick_backend
from vidfast.llm.prompts import PromptError, PromptSpec, available_tasks, load_prompt, prompts_dir
from vidfast.llm.types import Completion, LLMRequest, LLMResult, OutputSpec, Sampling
from vidfast.llm.validate import OutputInvalid, extract_json

__all__ = [
    "Completion",
    "LLMEngine",
    "LLMRequest",
    "LLMResult",
    "OutputInvalid",
    "OutputSpec",
    "PromptError",
    "PromptSpec",
    "Sampling",
    "TaskStats",
    "available_tasks",
    "backend_report",
    "create_engine",
    "extract_json",
    "load_prompt",
    "pick_backend",
    "prompts_dir",
]
