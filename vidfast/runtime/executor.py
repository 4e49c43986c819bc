"""The local streaming executor: one thread pool per stage, bounded queues between stages.

Tasks stream through the stages in order. Each stage has its own workers (each with its own stage
instance, set up once), reads batches from a bounded queue and writes to the next one, so decoding
of one video overlaps model work on another and memory stays bounded by the queue sizes. Results
are persisted per task and stage as they finish; a stored result with a matching fingerprint is
reused instead of recomputed, which makes re-runs free and lets a killed run resume.
"""

from __future__ import annotations

import copy
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from vidfast.errors import VidfastError
from vidfast.logs import console
from vidfast.runtime.records import CACHED, DONE, SKIPPED, VideoTask
from vidfast.runtime.stage import Stage, StageStats, Timer, error_reason
from vidfast.runtime.store import RunStore

_END = object()
_POLL_S = 0.2


def _put(q: queue.Queue, item: object, aborted: Callable[[], bool]) -> None:
    """Put with backpressure, giving up when the run is aborting (so no thread blocks forever)."""
    while not aborted():
        try:
            q.put(item, timeout=_POLL_S)
            return
        except queue.Full:
            continue


def _get(q: queue.Queue, aborted: Callable[[], bool]) -> object:
    """Get, returning the end marker when the run is aborting."""
    while not aborted():
        try:
            return q.get(timeout=_POLL_S)
        except queue.Empty:
            continue
    return _END


@dataclass
class ExecutorOptions:
    """How the local executor runs: workers per CPU stage, queue bound, progress, checkpoints."""

    workers: int = 2
    queue_size: int = 16
    batch_wait_s: float = 0.02
    progress: bool = True
    retry_failed: bool = False
    checkpoint_every_s: float = 5.0


@dataclass
class RunOutcome:
    """What an executor run produced: the tasks (in input order) and per-stage statistics."""

    tasks: list[VideoTask]
    stage_stats: dict[str, StageStats]
    wall_s: float
    fingerprints: dict[str, str] = field(default_factory=dict)
    # per stage: when (seconds since the run started) each task left it, by outcome (ok, failed, cached,
    # skipped) - the run report's throughput-over-time figure
    timeline: dict[str, dict[str, list[float]]] = field(default_factory=dict)


def chain_fingerprints(stages: Sequence[Stage]) -> dict[str, str]:
    """Each stage's fingerprint, chained through its upstream stages."""
    prints: dict[str, str] = {}
    upstream = ""
    for stage in stages:
        upstream = stage.fingerprint(upstream)
        prints[stage.name] = upstream
    return prints


class StageWorker:
    """One worker of one stage: its own stage instance (set up once), and what it does with a batch —
    skip failed tasks, reuse stored results, process the rest (isolating a bad item), store the outcomes.

    Every executor runs stages through this class, so caching, resumption and failure isolation are
    the same whichever executor runs the stages.
    """

    def __init__(self, stage: Stage, fingerprint: str, store: RunStore, retry_failed: bool = False,
                 consumers: Sequence[tuple[str, str]] = ()) -> None:
        self.stage = copy.copy(stage)
        self.stage.__post_init__()
        self.stage.store = store  # for stages that keep arrays beside their results
        self.fingerprint, self.store, self.retry_failed = fingerprint, store, retry_failed
        self.consumers = list(consumers)  # (name, fingerprint) of the stored stages a transient stage feeds

    @property
    def stats(self) -> StageStats:
        return self.stage.stats

    def setup(self) -> None:
        self.stage.setup()

    def teardown(self) -> None:
        self.stage.teardown()

    def handle(self, batch: list[VideoTask]) -> None:
        """Run the stage on ``batch`` (tasks are updated in place) and store each outcome."""
        worker = self.stage
        todo = [t for t in batch if self._prepare(t)]
        if todo:
            worker.stats.batches += 1
            with Timer(worker.stats):
                self._process(todo)
            for task in todo:
                if task.stage_status.get(worker.name) != "failed":
                    task.stage_status[worker.name] = DONE
                    worker.stats.ok += 1
                else:
                    worker.stats.failed += 1
                if worker.persist:
                    self.store.save_result(worker.name, self.fingerprint, task)

    def _prepare(self, task: VideoTask) -> bool:
        """Skip failed tasks, reuse stored results; True when the task needs processing."""
        worker = self.stage
        worker.stats.items += 1
        if task.failed:
            task.stage_status[worker.name] = SKIPPED
            worker.stats.skipped += 1
            return False
        if not worker.persist:
            return self._needed_downstream(task)
        doc = self.store.load_result(worker.name, self.fingerprint, task)
        if doc is None or (doc["status"] == "failed" and self.retry_failed):
            return True
        worker.stats.cached += 1
        if doc["status"] == "failed":
            err = doc["error"]
            task.fail(worker.name, err["reason"], err["message"])
        else:
            task.data[worker.name] = doc["data"]
            task.stage_status[worker.name] = CACHED
        return False

    def _needed_downstream(self, task: VideoTask) -> bool:
        """A transient stage runs only when one of the stored stages it feeds must run for this task."""
        if not self.consumers:
            return True
        for consumer in self.consumers:
            doc = self.store.load_result(*consumer, task)
            if doc is None or (doc["status"] == "failed" and self.retry_failed):
                return True
        task.stage_status[self.stage.name] = CACHED
        self.stage.stats.cached += 1
        return False

    def _process(self, batch: list[VideoTask]) -> None:
        """Run a batch; when the batched call raises, re-run it item by item to isolate the bad one."""
        try:
            self.stage.process(batch)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].fail(self.stage.name, error_reason(exc), str(exc) or type(exc).__name__)
                return
            for task in batch:
                self._process([task])


def merge_stats(parts: Sequence[StageStats]) -> StageStats:
    """The sum of several workers' (or batches') statistics of one stage."""
    total = StageStats()
    for s in parts:
        for name in ("items", "ok", "failed", "cached", "skipped", "batches"):
            setattr(total, name, getattr(total, name) + getattr(s, name))
        total.busy_s += s.busy_s
        for k, v in s.counters.items():
            total.add(k, v)
    return total


def stage_consumers(stages: Sequence[Stage], index: int, prints: dict[str, str]) -> list[tuple[str, str]]:
    """The stored stages whose need decides transient stage ``index``'s: those naming it in ``uses``,
    else the first stored stage after it."""
    name = stages[index].name
    later = [s for s in stages[index + 1:] if s.persist]
    users = [s for s in later if name in s.uses] or later[:1]
    return [(s.name, prints[s.name]) for s in users]


def check_stage_names(stages: Sequence[Stage]) -> None:
    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise VidfastError(f"stage names must be unique, got {names}")


def _outcome(stage: str, task: VideoTask) -> str:
    status = task.stage_status.get(stage)
    return {DONE: "ok", CACHED: "cached", SKIPPED: "skipped"}.get(status or "", "failed")


class _StageRunner:
    """The worker threads of one stage."""

    def __init__(self, stage: Stage, fingerprint: str, store: RunStore, opts: ExecutorOptions,
                 inbox: queue.Queue, outbox: queue.Queue, errors: list[BaseException],
                 consumers: Sequence[tuple[str, str]] = (), bar: Any = None) -> None:
        self.stage, self.fingerprint, self.store, self.opts = stage, fingerprint, store, opts
        self.bar = bar  # this stage's progress bar (videos through the stage), or None
        self.inbox, self.outbox, self.errors = inbox, outbox, errors
        self.consumers = list(consumers)
        workers = opts.workers if stage.resources.gpus == 0 else 1
        self.n_workers = max(1, min(workers, stage.max_workers or workers))
        self.alive = self.n_workers
        self.lock = threading.Lock()
        self.workers: list[StageWorker] = []
        self.t0 = time.perf_counter()
        self.events: list[tuple[float, str]] = []  # (seconds since t0, outcome); appends are atomic

    def aborted(self) -> bool:
        return bool(self.errors)

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._work, name=f"{self.stage.name}-{i}", daemon=True)
                   for i in range(self.n_workers)]
        for t in threads:
            t.start()
        return threads

    def _next_batch(self, batch_size: int) -> tuple[list[VideoTask], bool]:
        first = _get(self.inbox, self.aborted)
        if first is _END:
            return [], True
        batch, ended = [first], False
        deadline = time.monotonic() + self.opts.batch_wait_s
        while len(batch) < batch_size:
            try:
                item = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is _END:
                ended = True
                break
            batch.append(item)
        return batch, ended

    def _work(self) -> None:
        worker = StageWorker(self.stage, self.fingerprint, self.store, self.opts.retry_failed, self.consumers)
        self.workers.append(worker)
        try:
            worker.setup()
            while True:
                batch, ended = self._next_batch(worker.stage.batch_size)
                if batch:
                    worker.handle(batch)
                    now = time.perf_counter() - self.t0
                    self.events += [(now, _outcome(worker.stage.name, task)) for task in batch]
                    self._progress(len(batch))
                    for task in batch:
                        _put(self.outbox, task, self.aborted)
                if ended:
                    self.inbox.put(_END)  # let this stage's other workers see the end too
                    break
        except BaseException as exc:  # a broken stage (not a bad item) stops the run
            self.errors.append(exc)
        finally:
            try:
                worker.teardown()
            finally:
                with self.lock:
                    self.alive -= 1
                    last = self.alive == 0
                if last:
                    _put(self.outbox, _END, self.aborted)

    def _progress(self, n: int) -> None:
        if self.bar is None:
            return
        with self.lock:
            self.bar.update(n)
            failed = sum(w.stats.failed for w in self.workers)
            if failed:
                self.bar.set_postfix(failed=failed, refresh=False)

    def timeline(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for t, outcome in sorted(self.events):
            out.setdefault(outcome, []).append(round(t, 3))
        return out

    def merged_stats(self) -> StageStats:
        return merge_stats([w.stats for w in self.workers])


class LocalExecutor:
    """Runs a list of stages over tasks on this machine, streaming, with bounded queues."""

    def __init__(self, stages: Sequence[Stage], store: RunStore, options: ExecutorOptions | None = None,
                 on_checkpoint: Callable[[list[VideoTask]], None] | None = None) -> None:
        check_stage_names(stages)
        self.stages, self.store = list(stages), store
        self.opts = options or ExecutorOptions()
        self.on_checkpoint = on_checkpoint

    def run(self, tasks: list[VideoTask]) -> RunOutcome:
        t0 = time.perf_counter()
        prints = chain_fingerprints(self.stages)
        queues = [queue.Queue(maxsize=self.opts.queue_size) for _ in range(len(self.stages) + 1)]
        errors: list[BaseException] = []
        # one progress bar per stage: videos through it (cached ones too), with its failures
        width = max(len(s.name) for s in self.stages)
        bars = [tqdm(total=len(tasks), unit="video", desc=f"{s.name:<{width}}", position=i, file=console(),
                     disable=not self.opts.progress, dynamic_ncols=True) for i, s in enumerate(self.stages)]
        runners = [
            _StageRunner(stage, prints[stage.name], self.store, self.opts, queues[i], queues[i + 1], errors,
                         stage_consumers(self.stages, i, prints), bars[i])
            for i, stage in enumerate(self.stages)
        ]
        for r in runners:
            r.t0 = t0
        try:
            threads = [t for r in runners for t in r.start()]
            feeder = threading.Thread(target=self._feed, args=(tasks, queues[0], errors), daemon=True)
            feeder.start()
            self._drain(tasks, queues[-1], errors)
            for t in [feeder, *threads]:
                t.join()
        finally:
            for bar in bars:
                bar.close()
        if errors:
            raise errors[0]
        stats = {r.stage.name: r.merged_stats() for r in runners}
        return RunOutcome(tasks, stats, time.perf_counter() - t0, prints,
                          {r.stage.name: r.timeline() for r in runners})

    def _feed(self, tasks: list[VideoTask], inbox: queue.Queue, errors: list[BaseException]) -> None:
        aborted = lambda: bool(errors)  # noqa: E731
        for task in tasks:
            _put(inbox, task, aborted)
        _put(inbox, _END, aborted)

    def _drain(self, tasks: list[VideoTask], outbox: queue.Queue, errors: list[BaseException]) -> None:
        last_checkpoint = time.monotonic()
        while True:
            item = _get(outbox, lambda: bool(errors))
            if item is _END:
                break
            for stage in self.stages:  # transient outputs (frames) never outlive the stages
                if not stage.persist:
                    item.data.pop(stage.name, None)
            if self.on_checkpoint and time.monotonic() - last_checkpoint > self.opts.checkpoint_every_s:
                self.on_checkpoint(tasks)
                last_checkpoint = time.monotonic()


def describe_stats(stats: dict[str, StageStats]) -> dict[str, Any]:
    return {name: s.to_dict() for name, s in stats.items()}
