"""The LLM engine contract: batched ``generate`` with schema validation and bounded retries.

A backend implements only ``_complete`` (one attempt for a batch of requests). The shared
``generate`` validates every answer, re-batches only the failed requests with a fresh sample
(hotter temperature, new seed) up to ``max_retries`` times, and records anything still invalid as
a failure with its raw text — never an endless loop, never a silent drop.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar

from vidfast.llm.types import Completion, LLMRequest, LLMResult
from vidfast.llm.validate import OutputInvalid, parse_answer


@dataclass
class TaskStats:
    """Per-task counters kept by an engine across ``generate`` calls."""

    requests: int = 0
    first_try_valid: int = 0
    valid_after_retries: int = 0
    failed: int = 0
    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Counters plus the first-try and final validity shares."""
        n = max(self.requests, 1)
        return {
            **asdict(self),
            "first_try_valid_share": self.first_try_valid / n,
            "valid_share": (self.first_try_valid + self.valid_after_retries) / n,
        }


class LLMEngine(ABC):
    """Batched chat completion with validation and retries; subclasses are the backends."""

    name: ClassVar[str] = "base"

    def __init__(self, max_retries: int = 2, retry_temperature_step: float = 0.2) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.max_retries = max_retries
        self.retry_temperature_step = retry_temperature_step
        self.stats: dict[str, TaskStats] = {}

    @abstractmethod
    def _complete(self, requests: list[LLMRequest]) -> list[Completion]:
        """Run one attempt for every request (all submitted together); same order as the input."""

    def close(self) -> None:
        """Release the model or connections (default: nothing to do)."""

    def generate(self, requests: list[LLMRequest]) -> list[LLMResult]:
        """Answer every request; each result is valid or carries the error and raw text of its last try."""
        t0 = time.perf_counter()
        results = [LLMResult(key=r.key, task=r.task) for r in requests]
        pending = list(range(len(requests)))
        for attempt in range(self.max_retries + 1):
            if not pending:
                break
            batch = [self._retry_request(requests[i], attempt) for i in pending]
            pending = self._absorb(batch, pending, results)
        self._count(requests, results, time.perf_counter() - t0)
        return results

    def stats_dict(self) -> dict[str, dict[str, Any]]:
        """Per-task counters as plain dicts (for reports and benchmarks)."""
        return {task: s.as_dict() for task, s in sorted(self.stats.items())}

    def _retry_request(self, request: LLMRequest, attempt: int) -> LLMRequest:
        if attempt == 0:
            return request
        return replace(request, sampling=request.sampling.bumped(attempt, self.retry_temperature_step))

    def _absorb(self, batch: list[LLMRequest], pending: list[int], results: list[LLMResult]) -> list[int]:
        completions = self._complete(batch)
        if len(completions) != len(batch):
            raise RuntimeError(
                f"{self.name} backend returned {len(completions)} answers for {len(batch)} requests"
            )
        still: list[int] = []
        for idx, req, comp in zip(pending, batch, completions):
            if not self._record(results[idx], req, comp):
                still.append(idx)
        return still

    @staticmethod
    def _record(result: LLMResult, request: LLMRequest, comp: Completion) -> bool:
        result.attempts += 1
        result.tokens_in += comp.tokens_in
        result.tokens_out += comp.tokens_out
        result.text = comp.text
        if comp.error is not None:
            result.error = f"backend error: {comp.error}"
            return False
        try:
            result.data = parse_answer(comp.text, request.output)
        except OutputInvalid as exc:
            result.data, result.error = None, str(exc)
            return False
        result.error = None
        return True

    def _count(self, requests: list[LLMRequest], results: list[LLMResult], seconds: float) -> None:
        for req, res in zip(requests, results):
            s = self.stats.setdefault(req.task, TaskStats())
            s.requests += 1
            s.attempts += res.attempts
            s.tokens_in += res.tokens_in
            s.tokens_out += res.tokens_out
            if not res.ok:
                s.failed += 1
            elif res.attempts == 1:
                s.first_try_valid += 1
            else:
                s.valid_after_retries += 1
        for task in {r.task for r in requests}:
            self.stats[task].seconds += (
                seconds * sum(r.task == task for r in requests) / max(len(requests), 1)
            )
