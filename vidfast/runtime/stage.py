"""The stage protocol: config dataclass, declared resources, setup once per worker, batched process.

A stage never calls another stage; executors connect them. ``process`` receives a batch of tasks and
returns them; a failure of one item is recorded on that item (``task.fail``) and never kills the batch.
Stages that only implement ``process_item`` get that guarantee from the base class; stages that
override ``process`` for batched model work get it from the executor, which re-runs a batch item by
item when the batched call raises.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from vidfast.errors import DecodeError, VidfastError
from vidfast.runtime.records import VideoTask


@dataclass(frozen=True)
class Resources:
    """What one worker of a stage needs; executors use it to size pools and place work.

    ``gpus`` is what a worker takes when the run has GPUs (the Ray executor's ``num_gpus``; fractions
    share a GPU between light models); a stage with ``gpus > 0`` gets one local worker per process.
    """

    cpus: float = 1.0
    gpus: float = 0.0
    memory_gb: float = 0.5


@dataclass
class StageStats:
    """Counters and timers of one stage in one run."""

    items: int = 0
    ok: int = 0
    failed: int = 0
    cached: int = 0
    skipped: int = 0
    batches: int = 0
    busy_s: float = 0.0
    counters: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, value: float = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + value

    def to_dict(self) -> dict[str, Any]:
        processed = self.ok + self.failed
        rate = processed / self.busy_s if self.busy_s > 0 else None
        return {
            "items": self.items, "ok": self.ok, "failed": self.failed, "cached": self.cached,
            "skipped": self.skipped, "batches": self.batches, "busy_s": round(self.busy_s, 4),
            "items_per_s": round(rate, 3) if rate else None,
            "counters": {k: round(v, 4) if isinstance(v, float) else v for k, v in self.counters.items()},
        }


def error_reason(exc: BaseException) -> str:
    """The short reason code recorded for an exception raised while processing an item."""
    if isinstance(exc, DecodeError):
        return exc.reason
    if isinstance(exc, MemoryError):
        return "out_of_memory"
    if isinstance(exc, VidfastError):
        return type(exc).__name__
    return f"internal:{type(exc).__name__}"


class Stage:
    """Base class of all stages. Subclasses are dataclasses whose fields are their configuration."""

    name: ClassVar[str] = "stage"
    version: ClassVar[int] = 1  # bump when a change of code changes the stage's output
    resources: ClassVar[Resources] = Resources()
    batch_size: ClassVar[int] = 1
    # Model stages set 1: one model instance per device, batching instead of threads.
    max_workers: ClassVar[int | None] = None
    # False for stages whose output (e.g. decoded frames) is not worth storing: such a stage runs for
    # a task only when a stored stage that reads its output has no valid result for it (the stages
    # naming it in ``uses``, else the next stored stage). Its output never outlives the run's stages.
    persist: ClassVar[bool] = True
    # Names of the transient stages whose output this stage reads (when several stored stages share one).
    uses: ClassVar[tuple[str, ...]] = ()
    # Fields that change speed, not results (batch sizes): left out of the fingerprint.
    performance_fields: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        self.stats = StageStats()
        self.store: Any = None  # the run's RunStore, set by the executor before setup()

    def setup(self) -> None:
        """Load models and open resources; called once per worker before the first batch."""

    def teardown(self) -> None:
        """Release what ``setup`` acquired."""

    def process_item(self, task: VideoTask) -> dict[str, Any]:
        """Process one task and return this stage's JSON-serialisable result for it."""
        raise NotImplementedError(f"{type(self).__name__} implements neither process nor process_item")

    def process(self, batch: list[VideoTask]) -> list[VideoTask]:
        """Process a batch; by default item by item, each failure recorded on its own task."""
        for task in batch:
            self.run_item(task)
        return batch

    def run_item(self, task: VideoTask) -> None:
        """Run ``process_item`` on one task, turning an exception into a recorded failure."""
        try:
            task.data[self.name] = self.process_item(task)
        except Exception as exc:  # one bad video must never stop the run
            task.fail(self.name, error_reason(exc), str(exc) or type(exc).__name__)

    def config_dict(self) -> dict[str, Any]:
        """The fields that decide the stage's output."""
        if not dataclasses.is_dataclass(self):
            return {}
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in self.performance_fields}

    def fingerprint(self, upstream: str = "") -> str:
        """Hash of the stage's identity, version, configuration and its upstream stages' fingerprints."""
        doc = json.dumps([self.name, self.version, self.config_dict(), upstream], sort_keys=True, default=str)
        return hashlib.sha256(doc.encode()).hexdigest()[:16]


class Timer:
    """Context manager adding the elapsed wall time to ``stats.busy_s``."""

    def __init__(self, stats: StageStats) -> None:
        self.stats = stats

    def __enter__(self) -> Timer:
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stats.busy_s += time.perf_counter() - self.t0
