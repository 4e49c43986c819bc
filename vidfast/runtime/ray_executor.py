"""The Ray executor: the same stages on Ray Data, across the GPUs and machines of a Ray cluster.

Every stage becomes one streaming ``map_batches`` operator over rows that each carry one video's task
(pickled, with the statistics gathered on the way). Stages that load something in ``setup`` (models)
run in actor pools, one ``setup`` per actor, each actor holding ``num_gpus`` (fractions share a GPU);
the others (decode, shot detection, frame sampling) run as Ray tasks. Ray Data streams the rows
through the operators with back-pressure, so memory stays bounded whatever the number of videos.

Inside every worker the stage runs through the same ``StageWorker`` as in the local executor: stored
results with a matching fingerprint are reused, one bad video becomes a failed record (never a failed
job), and every outcome is written to the run directory as it finishes, so resumption and
config-hash invalidation are exactly the local executor's. The run directory must therefore be on a
file system every node of the cluster sees (NFS, Lustre, ...), at the same path.

A worker process that dies (killed, out of memory, crashed in native code) has its batch re-run by
Ray; a batch that keeps killing its workers is re-run one video at a time, and a video that still
kills its worker is recorded as failed (reason ``worker_died``) at the first stage that has no stored
result for it.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from vidfast.errors import ConfigError, VidfastError
from vidfast.runtime.executor import (
    ExecutorOptions,
    RunOutcome,
    StageWorker,
    chain_fingerprints,
    check_stage_names,
    merge_stats,
    stage_consumers,
)
from vidfast.runtime.records import DONE, SKIPPED, VideoTask
from vidfast.runtime.stage import Stage, StageStats
from vidfast.runtime.store import RunStore

# CPUs a model actor reserves by default: none. With a GPU its work is there; without one, reserving
# would take the CPUs from the decode tasks (on 2 CPUs, three model actors at 0.25 left room for one
# decode at a time), while the local executor lets model threads and decoders share the cores.
ACTOR_CPUS = 0.0
WORKER_DIED = "worker_died"
MAX_BLOCKS = 20_000  # beyond it, several videos share an input block (and the CPU task that reads it)


@dataclass
class RayStageOptions:
    """Overrides of one stage's Ray resources (None: the stage's own)."""

    num_gpus: float | None = None
    num_cpus: float | None = None
    actors: int | None = None
    batch_size: int | None = None


@dataclass
class RayOptions:
    """Which cluster, and how stages are placed on it."""

    address: str | None = None  # None: $RAY_ADDRESS, else a new local cluster
    num_cpus: int | None = None  # a new local cluster only
    num_gpus: int | None = None
    object_store_mb: int | None = None
    use_gpus: bool = True  # False (models.device=cpu): no stage asks for a GPU
    worker_retries: int = 3
    torch_threads: int = 0  # per worker process; 0: the node's CPU count (Ray's own default would be 1)
    stages: dict[str, RayStageOptions] = field(default_factory=dict)


@dataclass
class StagePlan:
    """How one stage runs on the cluster."""

    name: str
    actor: bool
    num_cpus: float
    num_gpus: float
    batch_size: int
    pool: tuple[int, int]  # actor pool (min, max); unused for tasks

    def describe(self) -> dict[str, Any]:
        kind = f"actors {self.pool[0]}..{self.pool[1]}" if self.actor else "tasks"
        return {"stage": self.name, "workers": kind, "num_cpus": self.num_cpus, "num_gpus": self.num_gpus,
                "batch_size": self.batch_size}


def loads_setup(stage: Stage) -> bool:
    """True for stages that load something once per worker (models): they run in actor pools."""
    return type(stage).setup is not Stage.setup


def plan_stages(stages: Sequence[Stage], opts: RayOptions, cluster_gpus: float) -> list[StagePlan]:
    """Each stage's workers and resources: the stage's declaration, the config's overrides, the cluster."""
    unknown = sorted(set(opts.stages) - {s.name for s in stages})
    if unknown:
        raise ConfigError(f"runtime.ray.stages names {', '.join(unknown)}, which this recipe does not run; "
                          f"its stages are: {', '.join(s.name for s in stages)}.")
    plans = []
    for stage in stages:
        over = opts.stages.get(stage.name, RayStageOptions())
        gpus = over.num_gpus
        if gpus is None:
            gpus = stage.resources.gpus if opts.use_gpus and cluster_gpus > 0 else 0.0
        if gpus > cluster_gpus:
            raise ConfigError(f"runtime.ray.stages.{stage.name}.num_gpus={gpus} but the Ray cluster has "
                              f"{cluster_gpus:g} GPUs; lower it or add GPU nodes.")
        actor = loads_setup(stage) or gpus > 0 or over.actors is not None
        cpus = over.num_cpus if over.num_cpus is not None else (
            min(stage.resources.cpus, ACTOR_CPUS) if actor else stage.resources.cpus)
        if over.actors is not None:
            pool = (over.actors, over.actors)
        elif gpus > 0:
            pool = (1, max(1, math.floor(cluster_gpus / gpus + 1e-9)))
        else:
            pool = (1, 1)  # a model on CPU: one instance, batching instead of more copies (as locally)
        batch = over.batch_size or max(1, int(stage.batch_size))
        plans.append(StagePlan(stage.name, actor, float(cpus), float(gpus), batch, pool))
    return _fit_gpus(plans, opts, cluster_gpus)


def _fit_gpus(plans: list[StagePlan], opts: RayOptions, cluster_gpus: float) -> list[StagePlan]:
    """Shrink the default GPU shares when the first actor of every GPU stage would not fit at once
    (e.g. CLIP 0.25 + BLIP-2 1 + CLIP 0.25 on one GPU): every model stage must get its actor, or the
    pipeline waits forever. Shares given in the config are kept."""
    fixed = sum(p.num_gpus * p.pool[0] for p in plans if opts.stages.get(p.name, RayStageOptions()).num_gpus is not None)
    free = [p for p in plans if p.num_gpus > 0 and opts.stages.get(p.name, RayStageOptions()).num_gpus is None]
    wanted = sum(p.num_gpus * p.pool[0] for p in free)
    if fixed > cluster_gpus + 1e-9:
        raise ConfigError(f"the GPU stages' first actors need {fixed:g} GPUs (runtime.ray.stages.*.num_gpus x actors) "
                          f"but the Ray cluster has {cluster_gpus:g}; lower the shares or add GPUs.")
    if free and fixed + wanted > cluster_gpus + 1e-9:
        scale = (cluster_gpus - fixed) / wanted
        if scale <= 0:
            raise ConfigError(f"the configured GPU shares take all {cluster_gpus:g} GPUs; leave room for the "
                              f"stages {', '.join(p.name for p in free)} or give them num_gpus.")
        for p in free:
            p.num_gpus = math.floor(p.num_gpus * scale * 1e4) / 1e4  # Ray takes 4 decimals
            p.pool = (p.pool[0], max(p.pool[0], math.floor(cluster_gpus / p.num_gpus + 1e-9)))
    return plans


# ---------------------------------------------------------------------------------------------- workers
#
# A row is {"i": index of the task in the run's input order, "payload": pickle of a _Row}. A stage that
# cannot work at all (its setup raised: model missing) turns its rows into fatal rows, which the later
# stages pass on untouched and the driver raises, as the local executor does; Ray itself only ever
# sees worker processes die, never an exception.


@dataclass
class _Row:
    task: VideoTask
    stats: dict[str, StageStats] = field(default_factory=dict)  # of the batches this row was the first of
    fatal: BaseException | None = None


def _decode(batch: dict[str, np.ndarray]) -> tuple[list[int], list[_Row]]:
    return [int(i) for i in batch["i"]], [pickle.loads(b) for b in batch["payload"]]


def _dumps(row: _Row) -> bytes:
    try:
        return pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle travels as its text
        if row.fatal is None:
            raise
        row.fatal = RuntimeError(f"{type(row.fatal).__name__}: {row.fatal}")
        return pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)


def _encode(index: list[int], rows: list[_Row]) -> dict[str, np.ndarray]:
    payload = np.empty(len(rows), dtype=object)
    payload[:] = [_dumps(r) for r in rows]
    return {"i": np.asarray(index, dtype=np.int64), "payload": payload}


class _Worker:
    """One stage's worker in a Ray process: set up on first use; a setup failure is kept, not raised."""

    def __init__(self, stage: Stage, fingerprint: str, store_root: str, retry_failed: bool,
                 consumers: list[tuple[str, str]], drop: list[str], torch_threads: int = 0) -> None:
        self.worker = StageWorker(stage, fingerprint, RunStore(store_root), retry_failed, consumers)
        self.drop = drop
        self.torch_threads = torch_threads or len(os.sched_getaffinity(0))
        self.broken: BaseException | None = None
        try:
            self.worker.setup()
        except Exception as exc:
            self.broken = exc

    def _threads(self) -> None:
        # Ray sets OMP_NUM_THREADS=1 in a worker reserving < 1 CPU (model actors reserve none), so torch
        # would run a CPU model on one thread; give it the node's cores, as a local run does.
        torch = sys.modules.get("torch")
        if torch is not None and torch.get_num_threads() != self.torch_threads:
            torch.set_num_threads(self.torch_threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self._threads()
        index, rows = _decode(batch)
        live = [r for r in rows if r.fatal is None]
        if self.broken is not None:
            for r in live:
                r.fatal = self.broken
            return _encode(index, rows)
        tasks = [r.task for r in live]
        stage = self.worker.stage
        stage.stats = StageStats()  # this batch's statistics travel with its first row
        try:
            self.worker.handle(tasks)
        except Exception as exc:  # not a bad video (those are recorded on their task): a broken stage
            for r in live:
                r.fatal = exc
            return _encode(index, rows)
        if live:
            live[0].stats[stage.name] = stage.stats
        for task in tasks:  # transient outputs no later stage reads: not worth shipping on
            for name in self.drop:
                task.data.pop(name, None)
        return _encode(index, rows)


class StageActor(_Worker):
    """A model stage's actor: ``setup`` once (the model load), then batches."""


_task_workers: dict[tuple[Any, ...], _Worker] = {}


def stage_task(batch: dict[str, np.ndarray], stage: Stage, fingerprint: str, store_root: str, retry_failed: bool,
               consumers: list[tuple[str, str]], drop: list[str], torch_threads: int = 0) -> dict[str, np.ndarray]:
    """A CPU stage's task; its worker is kept per process, so ``setup`` runs once per worker process."""
    key = (stage.name, fingerprint, store_root, retry_failed)
    worker = _task_workers.get(key)
    if worker is None:
        worker = _task_workers[key] = _Worker(stage, fingerprint, store_root, retry_failed, consumers, drop,
                                              torch_threads)
    return worker(batch)


# ---------------------------------------------------------------------------------------------- driver

def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise VidfastError(
            f"runtime.executor=ray needs Ray Data, which is not installed ({exc}). "
            'Install it with: pip install "vidfast[ray]" (or pip install "ray[data]==2.60.0"), '
            "or use runtime.executor=local."
        ) from None
    return ray


def connect(opts: RayOptions) -> bool:
    """Join the cluster at ``opts.address`` / $RAY_ADDRESS, or start a local one; True when started here."""
    ray = _import_ray()
    if ray.is_initialized():
        return False
    address = opts.address or os.environ.get("RAY_ADDRESS") or None
    quiet = {"include_dashboard": False, "logging_level": "WARNING", "log_to_driver": True}
    if address:
        try:
            ray.init(address=address, logging_level="WARNING")
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise VidfastError(
                f"cannot connect to the Ray cluster at {address!r}: {exc}. Start it first (ray start --head on "
                "the head node, see the README's Ray section), check runtime.ray.address / RAY_ADDRESS, or unset "
                "both to start a local cluster. A cluster with token authentication (Ray's default) needs its "
                "token here: RAY_AUTH_TOKEN or ~/.ray/auth_token."
            ) from None
        return True
    store = opts.object_store_mb << 20 if opts.object_store_mb else None
    ray.init(num_cpus=opts.num_cpus, num_gpus=opts.num_gpus, object_store_memory=store, **quiet)
    return True


class RayExecutor:
    """Runs a list of stages over tasks on a Ray cluster (Ray Data streaming, actor pools for models)."""

    def __init__(self, stages: Sequence[Stage], store: RunStore, options: ExecutorOptions | None = None,
                 ray_options: RayOptions | None = None,
                 on_checkpoint: Callable[[list[VideoTask]], None] | None = None) -> None:
        check_stage_names(stages)
        self.stages, self.store = list(stages), store
        self.opts = options or ExecutorOptions()
        self.ray_opts = ray_options or RayOptions()
        self.on_checkpoint = on_checkpoint
        self.plans: list[StagePlan] = []

    def run(self, tasks: list[VideoTask]) -> RunOutcome:
        t0 = time.perf_counter()
        prints = chain_fingerprints(self.stages)
        started = connect(self.ray_opts)
        ray = _import_ray()
        try:
            gpus = float(ray.cluster_resources().get("GPU", 0.0))
            self.plans = plan_stages(self.stages, self.ray_opts, gpus)
            stats: list[dict[str, StageStats]] = []
            bar = tqdm(total=len(tasks), unit="video", disable=not self.opts.progress, desc="videos")
            try:
                missing = self._pass(tasks, list(range(len(tasks))), prints, stats, bar, single=False)
                if missing:  # batches that kept killing their workers: again one video at a time
                    missing = self._pass(tasks, missing, prints, stats, bar, single=True)
                for i in missing:
                    self._worker_died(tasks[i], prints)
                    bar.update(1)
            finally:
                bar.close()
        finally:
            if started:
                ray.shutdown()
        per_stage = {s.name: merge_stats([d[s.name] for d in stats if s.name in d]) for s in self.stages}
        return RunOutcome(tasks, per_stage, time.perf_counter() - t0, prints)

    def _dataset(self, tasks: list[VideoTask], index: list[int], prints: dict[str, str], single: bool) -> Any:
        ray = _import_ray()
        from ray.data import ActorPoolStrategy, DataContext

        ctx = DataContext.get_current()
        ctx.enable_progress_bars = False  # vidfast's own bar counts videos
        ctx.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        ctx.max_errored_blocks = -1  # a batch whose worker keeps dying is dropped; its videos are re-run alone
        # Ray Data splits half the cluster into equal per-operator reservations; with a handful of CPUs
        # that left the decode tasks one CPU between them (they ran one at a time on 2 CPUs). Memory
        # stays bounded without it: rows are videos and every model stage takes bounded batches.
        ctx.op_resource_reservation_enabled = False
        ctx.verbose_stats_logs = False
        rows = [{"i": i, "payload": _dumps(_Row(tasks[i]))} for i in index]
        # one video per block (a task per video for the CPU stages), up to MAX_BLOCKS blocks
        ds = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), MAX_BLOCKS)))
        readers: dict[str, int] = {}  # transient stage -> index of the last stage reading it
        for k, stage in enumerate(self.stages):
            if not stage.persist:
                readers[stage.name] = max([k + 1] + [j for j, s in enumerate(self.stages) if stage.name in s.uses])
        for k, (stage, plan) in enumerate(zip(self.stages, self.plans)):
            drop = [name for name, last in readers.items() if last <= k]
            args = (stage, prints[stage.name], str(self.store.root), self.opts.retry_failed,
                    stage_consumers(self.stages, k, prints), drop, self.ray_opts.torch_threads)
            common: dict[str, Any] = {"batch_size": 1 if single else plan.batch_size, "batch_format": "numpy",
                                      "zero_copy_batch": True, "num_cpus": plan.num_cpus,
                                      "udf_modifying_row_count": False}
            if plan.num_gpus:
                common["num_gpus"] = plan.num_gpus
            # Ray 2.60 names no parameter for retries (an actor pool's default is to retry a dead worker's
            # batch forever, which a video that crashes its worker would never leave): pass them as the
            # remote arguments it still accepts, without its deprecation warning.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                if plan.actor:
                    ds = ds.map_batches(StageActor, fn_constructor_args=args,
                                        compute=ActorPoolStrategy(min_size=plan.pool[0], max_size=plan.pool[1]),
                                        max_restarts=-1, max_task_retries=self.ray_opts.worker_retries, **common)
                else:
                    ds = ds.map_batches(stage_task, fn_args=args, max_retries=self.ray_opts.worker_retries,
                                        **common)
        return ds

    def _pass(self, tasks: list[VideoTask], index: list[int], prints: dict[str, str],
              stats: list[dict[str, StageStats]], bar: tqdm, single: bool) -> list[int]:
        """Stream ``tasks[index]`` through the stages; returns the indices that never came back."""
        ds = self._dataset(tasks, index, prints, single)
        pending = set(index)
        failed = sum(t.failed for t in tasks)
        last_checkpoint = time.monotonic()
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0):
            got, rows = _decode(batch)
            for i, row in zip(got, rows):
                if row.fatal is not None:
                    raise row.fatal
                if i not in pending:  # a re-run batch's duplicate
                    continue
                pending.discard(i)
                task = row.task
                for stage in self.stages:  # transient outputs (frames) never outlive the stages
                    if not stage.persist:
                        task.data.pop(stage.name, None)
                _adopt(tasks[i], task)
                stats.append(row.stats)
                failed += task.failed
                bar.update(1)
                bar.set_postfix(failed=failed, refresh=False)
            if self.on_checkpoint and time.monotonic() - last_checkpoint > self.opts.checkpoint_every_s:
                self.on_checkpoint(tasks)
                last_checkpoint = time.monotonic()
        return sorted(pending)

    def _worker_died(self, task: VideoTask, prints: dict[str, str]) -> None:
        """Record a video whose worker kept dying: stored stages as stored, failed at the first without a result."""
        task.data, task.stage_status, task.error = {}, {}, None
        for stage in self.stages:
            if task.failed:
                task.stage_status[stage.name] = SKIPPED
                continue
            doc = self.store.load_result(stage.name, prints[stage.name], task) if stage.persist else None
            if stage.persist and doc is None:
                task.fail(stage.name, WORKER_DIED,
                          f"the Ray worker running stage {stage.name} (or a stage feeding it) for {task.video} died "
                          f"{self.ray_opts.worker_retries + 1} times, also when it ran alone (crash in native code, "
                          "out of memory, or killed); see the Ray worker logs (/tmp/ray/session_latest/logs)")
                self.store.save_result(stage.name, prints[stage.name], task)
            elif doc is not None and doc["status"] == "failed":
                task.fail(stage.name, doc["error"]["reason"], doc["error"]["message"])
            else:
                if doc is not None:
                    task.data[stage.name] = doc["data"]
                task.stage_status[stage.name] = DONE


def _adopt(task: VideoTask, result: VideoTask) -> None:
    """Copy what the stages learned (on a worker) into the caller's task object."""
    task.data, task.stage_status, task.error = result.data, result.stage_status, result.error
