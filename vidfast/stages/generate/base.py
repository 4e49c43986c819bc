"""The LLM stage family's contract: one engine per process, every prompt of a batch in one call.

An ``LLMStage`` builds all requests of a batch of videos (``requests_for``), submits them in ONE
``engine.generate`` call - grouped by prompt task so requests sharing a system prompt sit together
(prefix caching pays on vLLM) - and hands each video its results (``assign``). A request that is
still invalid after the engine's retries is kept as a failure entry with the raw text
(``failure_entry``); each recipe decides whether that fails the video or is only counted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from vidfast.errors import VidfastError
from vidfast.llm import LLMEngine, LLMRequest, LLMResult, Sampling, load_prompt
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage, error_reason
from vidfast.stages.models import shared_model

RAW_CHARS = 2000  # raw text kept per failure (enough to see what the model did)


class LLMInvalid(VidfastError):
    """Every LLM request of a video stayed invalid after the retries (the message carries raw text)."""


def all_failed(failures: list[dict[str, Any]]) -> LLMInvalid:
    """The error recorded on a video none of whose requests produced a valid answer."""
    first = failures[0]
    return LLMInvalid(
        f"{len(failures)} LLM request(s) failed; first ({first['task']}): {first['error']}; "
        f"raw: {first['raw'][:300]!r}"
    )


def build_engine(
    backend: str, model: str, device: str, batch_size: int, max_retries: int, endpoint: str | None
) -> LLMEngine:
    """The engine for a stage's settings (tests replace this to inject a canned engine)."""
    from vidfast.llm import create_engine

    options: dict[str, Any] = {"max_retries": max_retries}
    if backend == "openai":
        options["base_url"] = endpoint
    elif backend == "transformers" or backend == "auto":
        from vidfast.llm import pick_backend

        if pick_backend(backend) == "transformers":
            options.update(device=device, batch_size=batch_size)
    return create_engine(backend, model, **options)


def failure_entry(result: LLMResult) -> dict[str, Any]:
    """What is recorded for a request that stayed invalid: task, error, attempts and the raw text."""
    return {
        "task": result.task,
        "error": result.error,
        "attempts": result.attempts,
        "raw": result.text[:RAW_CHARS],
    }


@dataclass
class LLMStage(Stage):
    """Base of the LLM stages: engine settings as fields, batched ``process`` over many videos."""

    backend: str = "auto"
    model: str = "smollm2"
    device: str = "cpu"
    endpoint: str | None = None
    max_retries: int = 2
    max_tokens: int | None = None
    temperature: float | None = None
    seed: int = 0
    engine_batch: int = 16
    videos_per_batch: int = 64

    resources: ClassVar[Resources] = Resources(cpus=1.0, gpus=1.0, memory_gb=2.0)
    max_workers: ClassVar[int | None] = 1
    performance_fields: ClassVar[frozenset[str]] = frozenset({"engine_batch", "videos_per_batch", "endpoint"})

    def __post_init__(self) -> None:
        super().__post_init__()
        self.batch_size = self.videos_per_batch  # instance value shadows the ClassVar the executor reads
        self.engine: LLMEngine | None = None

    def setup(self) -> None:
        key = (
            "llm",
            self.backend,
            self.model,
            self.device,
            self.engine_batch,
            self.max_retries,
            self.endpoint,
        )
        self.engine = shared_model(
            key,
            lambda: build_engine(
                self.backend, self.model, self.device, self.engine_batch, self.max_retries, self.endpoint
            ),
        )

    def sampling(self, task: str, salt: str = "") -> Sampling:
        """The prompt file's sampling with the config's overrides and a per-request seed."""
        base = load_prompt(task).sampling
        changes: dict[str, Any] = {"seed": self.seed + _stable_hash(salt)}
        if self.max_tokens is not None:
            changes["max_tokens"] = min(base.max_tokens, self.max_tokens)
        if self.temperature is not None:
            changes["temperature"] = self.temperature
        return dataclasses.replace(base, **changes)

    def request(self, task: str, slot: str, video: str, **inputs: Any) -> LLMRequest:
        """A request for prompt ``task`` filling ``slot`` of ``video`` (the seed differs per video and slot)."""
        return load_prompt(task).request(slot, self.sampling(task, f"{video}:{slot}"), **inputs)

    def requests_for(self, task: VideoTask) -> list[LLMRequest]:
        """Every request this video needs (keys: slot names, unique within the video)."""
        raise NotImplementedError

    def assign(self, task: VideoTask, results: dict[str, LLMResult]) -> dict[str, Any]:
        """This stage's stored result for one video from its results (keyed like its requests)."""
        raise NotImplementedError

    def extra_requests(self, batch: list[VideoTask]) -> list[LLMRequest]:
        """Run-level requests to piggy-back on this batch's call (default: none)."""
        return []

    def absorb_extra(self, results: list[LLMResult]) -> None:
        """Take the results of ``extra_requests``."""

    def _count(self, res: LLMResult) -> None:
        """Per-prompt validity counters (first try / after retries / failed) for the run report."""
        outcome = (
            "failed" if not res.ok else "first_try_valid" if res.attempts <= 1 else "valid_after_retries"
        )
        self.stats.add("llm_requests")
        self.stats.add(f"{res.task}:{outcome}")
        self.stats.add("llm_tokens_out", res.tokens_out)

    def process(self, batch: list[VideoTask]) -> list[VideoTask]:
        per_task = [(t, self.requests_for(t)) for t in batch]
        extra = self.extra_requests(batch)
        flat = [(i, r) for i, (_, reqs) in enumerate(per_task) for r in reqs]
        flat.sort(key=lambda ir: ir[1].task)  # same prompt together: shared prefixes, fewer pad tokens
        assert self.engine is not None, "setup() was not called"
        results = self.engine.generate(extra + [r for _, r in flat])
        self.absorb_extra(results[: len(extra)])
        grouped: list[dict[str, LLMResult]] = [{} for _ in batch]
        for (i, req), res in zip(flat, results[len(extra) :]):
            grouped[i][req.key] = res
        for res in results:
            self._count(res)
        for task, got in zip(batch, grouped):
            try:
                task.data[self.name] = self.assign(task, got)
            except Exception as exc:  # noqa: BLE001 - one video's bad answer never stops the batch
                task.fail(self.name, error_reason(exc), str(exc) or type(exc).__name__)
        return batch


def _stable_hash(text: str) -> int:
    import zlib

    return zlib.crc32(text.encode()) % 100_000
