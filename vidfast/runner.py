"""Run a recipe over inputs into a run directory: the code behind ``vidfast run`` and ``vidfast.run``."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vidfast import __version__, envs
from vidfast.config import RunConfig, config_yaml, load_config
from vidfast.errors import InputError
from vidfast.logs import route_library_output
from vidfast.recipes import ExportContext, Recipe, get_recipe
from vidfast.recipes.llm_common import expand_run_inputs
from vidfast.runtime.executor import (
    ExecutorOptions,
    LocalExecutor,
    RunOutcome,
    chain_fingerprints,
    describe_stats,
    merge_stats,
)
from vidfast.runtime.lock import RunLock
from vidfast.runtime.records import TaskError, VideoTask
from vidfast.runtime.shards import Shard, find_shards, parse_shard
from vidfast.runtime.stage import Stage, StageStats
from vidfast.runtime.store import RunStore, atomic_write_json, atomic_write_jsonl, atomic_write_text

log = logging.getLogger(__name__)
# A shard starting beside others deletes only temporary files older than this (a killed run's leftovers);
# a live write renames its file into place within moments.
SHARD_TMP_GRACE_S = 600.0


@dataclass
class RunResult:
    """The outcome of a run: where it is, its report, and its tasks."""

    out_dir: Path
    report: dict[str, Any]
    tasks: list[VideoTask]
    manifest: Path | None = None  # a shard's own manifest; None: the run's manifest.jsonl

    @property
    def manifest_path(self) -> Path:
        return self.manifest or self.out_dir / "manifest.jsonl"

    @property
    def failed(self) -> int:
        return self.report["videos"]["failed"]


def build_report(cfg: RunConfig, outcome: RunOutcome, outputs: dict[str, str], started: float) -> dict[str, Any]:
    """Counts by status, failures by reason and stage, per-stage throughput, outputs."""
    statuses = Counter(t.status() for t in outcome.tasks)
    failed = [t for t in outcome.tasks if t.failed]
    return {
        "vidfast_version": __version__,
        "recipe": cfg.recipe,
        "preset": cfg.preset,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_s": round(outcome.wall_s, 3),
        "videos": {"total": len(outcome.tasks), "done": statuses.get("done", 0),
                   "failed": statuses.get("failed", 0), "skipped": statuses.get("skipped", 0)},
        "failures_by_reason": dict(Counter(t.error.reason for t in failed).most_common()),
        "failures_by_stage": dict(Counter(t.error.stage for t in failed).most_common()),
        "stages": describe_stats(outcome.stage_stats),
        "fingerprints": outcome.fingerprints,
        "outputs": outputs,
        "timeline": outcome.timeline,
    }


def make_executor(cfg: RunConfig, stages: list[Stage], store: RunStore,
                  on_checkpoint: Callable[[list[VideoTask]], None] | None = None) -> LocalExecutor | Any:
    """The executor ``cfg.runtime.executor`` names, with the run's options."""
    rt = cfg.runtime
    options = ExecutorOptions(workers=rt.workers, queue_size=rt.queue_size, progress=rt.progress,
                              retry_failed=rt.retry_failed)
    if rt.executor == "ray":
        from vidfast.runtime.ray_executor import RayExecutor, RayOptions, RayStageOptions

        ray = rt.ray
        ray_options = RayOptions(address=ray.address, num_cpus=ray.num_cpus, num_gpus=ray.num_gpus,
                                 object_store_mb=ray.object_store_mb, use_gpus=cfg.models.device != "cpu",
                                 worker_retries=ray.worker_retries, torch_threads=ray.torch_threads,
                                 stages={k: RayStageOptions(**dataclasses.asdict(v)) for k, v in ray.stages.items()})
        return RayExecutor(stages, store, options, ray_options, on_checkpoint=on_checkpoint)
    return LocalExecutor(stages, store, options, on_checkpoint=on_checkpoint)


def run_config(inputs: list[str] | tuple[str, ...], output: str | os.PathLike[str], cfg: RunConfig) -> RunResult:
    """Run ``cfg.recipe`` over ``inputs`` into ``output`` with a resolved configuration.

    A captions or predictions file named among the inputs stands for its ids (text-only LLM runs).
    With ``runtime.shard=i/n`` only this shard's videos run and nothing is exported: ``merge`` does that
    once every shard is done.
    """
    started = time.time()
    recipe = get_recipe(cfg.recipe)
    shard = parse_shard(cfg.runtime.shard)
    store = RunStore(output)
    store.prepare()
    with RunLock(store.root, cfg.runtime.shard):  # one writer per run directory (per shard)
        # temporary files of a killed run's unfinished writes (a shard spares recent ones: the other
        # shards, running beside it in this directory, may be writing them right now)
        store.remove_partial_writes(0.0 if shard is None else SHARD_TMP_GRACE_S)
        tasks = [VideoTask(v.path, v.source)
                 for v in expand_run_inputs(list(inputs), cfg.llm.captions, cfg.llm.predictions)]
        atomic_write_text(store.root / "config.yaml", config_yaml(cfg))
        with route_library_output(store.root, verbose=cfg.runtime.verbose):
            if shard is not None:
                return _run_shard(recipe, cfg, store, tasks, shard, started)
            executor = make_executor(cfg, recipe.build_stages(cfg), store, on_checkpoint=store.write_manifest)
            try:
                outcome = executor.run(tasks)
            finally:
                store.write_manifest(tasks)  # whatever finished is recorded, even when the run is interrupted
            return _export(recipe, cfg, store, outcome, started)


def _export(recipe: Recipe, cfg: RunConfig, store: RunStore, outcome: RunOutcome, started: float,
            extra: dict[str, Any] | None = None) -> RunResult:
    ctx = ExportContext(store.root, cfg, outcome.tasks)
    outputs = recipe.export(ctx)
    report = build_report(cfg, outcome, outputs, started)
    report["export"] = ctx.stats
    report.update(extra or {})
    atomic_write_json(store.root / "report.json", report)
    if cfg.runtime.report_html and envs.flag("VIDFAST_REPORT_HTML"):
        _write_html(store.root)
    return RunResult(store.root, report, outcome.tasks)


def _write_html(root: Path) -> None:
    """``report.html`` beside ``report.json``; a plotting problem never fails a finished run."""
    from vidfast.run_report import write_report

    try:
        write_report(root)
    except Exception as exc:  # noqa: BLE001 - the outputs and report.json are already written
        log.warning("could not write %s/report.html (%s: %s); retry with `vidfast report %s`",
                    root, type(exc).__name__, exc, root)


def _shard_manifest(store: RunStore, shard: Shard, tasks: list[VideoTask], index: list[int]) -> None:
    atomic_write_jsonl(store.root / shard.manifest_name(),
                       ({**t.manifest_row(), "index": i} for t, i in zip(tasks, index)))


def _run_shard(recipe: Recipe, cfg: RunConfig, store: RunStore, tasks: list[VideoTask], shard: Shard,
               started: float) -> RunResult:
    index = shard.select([t.video_id for t in tasks])
    mine = [tasks[i] for i in index]
    (store.root / shard.report_name()).unlink(missing_ok=True)  # its presence says the shard is complete
    executor = make_executor(cfg, recipe.build_stages(cfg), store,
                             on_checkpoint=lambda ts: _shard_manifest(store, shard, ts, index))
    try:
        outcome = executor.run(mine)
    finally:
        _shard_manifest(store, shard, mine, index)
    report = build_report(cfg, outcome, {}, started)
    report.update({"shard": str(shard), "inputs_total": len(tasks), "manifest": shard.manifest_name()})
    atomic_write_json(store.root / shard.report_name(), report)
    return RunResult(store.root, report, mine, store.root / shard.manifest_name())


def merge(output: str | os.PathLike[str]) -> RunResult:
    """Merge the shards of a run directory (``runtime.shard=i/n`` runs) and export the recipe's outputs.

    Checks that every shard 0..n-1 finished and that all ran with the configuration in ``config.yaml``;
    the manifest, report and outputs written are those an unsharded run of the same inputs writes.
    """
    started = time.time()
    root = Path(output)
    if not root.is_dir():
        raise InputError(f"{root} is not a run directory: give the -o directory the shards ran into")
    with RunLock(root):  # exclusive: refused while any shard of the run still runs
        RunStore(root).remove_partial_writes()
        return _merge_locked(root, started)


def _merge_locked(root: Path, started: float) -> RunResult:
    count, shards = find_shards(root)
    if not count:
        raise InputError(f"{root} holds no shard manifests (manifest.<i>-of-<n>.jsonl): run the shards first "
                         "with --set runtime.shard=<i>/<n>, one process per shard, into this directory.")
    missing = [f"{i}/{count}" for i in range(count) if not (root / Shard(i, count).report_name()).is_file()]
    if missing:
        raise InputError(f"shards {', '.join(missing)} of {root} have not finished (no report.<i>-of-{count}.json); "
                         f"run them (or resume them: the same command) and merge again.")
    cfg_doc = yaml.safe_load((root / "config.yaml").read_text(encoding="utf-8"))
    cfg = load_config(cfg_doc.get("preset", "default"), root / "config.yaml")
    recipe = get_recipe(cfg.recipe)
    stages = recipe.build_stages(cfg)
    prints = chain_fingerprints(stages)
    store = RunStore(root)
    rows: list[dict[str, Any]] = []
    reports = []
    for shard in shards:
        report = json.loads((root / shard.report_name()).read_text(encoding="utf-8"))
        if report.get("fingerprints") != prints:
            raise InputError(f"shard {shard} of {root} ran with another configuration than config.yaml (stage "
                             "fingerprints differ); re-run it with the same preset, config file and --set values.")
        reports.append(report)
        rows += [json.loads(line) for line in (root / shard.manifest_name()).read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    rows.sort(key=lambda r: r["index"])
    totals = {r.get("inputs_total") for r in reports}
    if len(totals) != 1 or [r["index"] for r in rows] != list(range(len(rows))) or totals != {len(rows)}:
        raise InputError(f"the shards of {root} did not run over the same inputs (input counts "
                         f"{sorted(t for t in totals if t is not None)}, {len(rows)} manifest rows); run every shard "
                         "with the same input list, then merge.")
    cfg.runtime.shard = None
    tasks = [_task_from_row(row, stages, prints, store) for row in rows]
    stage_stats = {s.name: merge_stats([_stats_from_dict(r["stages"][s.name]) for r in reports
                                        if s.name in r["stages"]]) for s in stages}
    outcome = RunOutcome(tasks, stage_stats, max(r["wall_s"] for r in reports), prints)
    store.write_manifest(tasks)
    shard_info = [{"shard": r["shard"], "wall_s": r["wall_s"], "videos": r["videos"]} for r in reports]
    return _export(recipe, cfg, store, outcome, started, {"shards": shard_info})


def _task_from_row(row: dict[str, Any], stages: list[Stage], prints: dict[str, str], store: RunStore) -> VideoTask:
    """A task as its shard left it: statuses and error from the manifest, data from the stored results."""
    task = VideoTask(row["video"], row.get("source", ""), row["video_id"])
    task.stage_status = dict(row["stages"])
    if row["status"] == "failed":
        task.error = TaskError(row["failed_stage"], row["reason"], row["error"])
        return task
    for stage in stages:
        if not stage.persist or task.stage_status.get(stage.name) in (None, "skipped"):
            continue
        doc = store.load_result(stage.name, prints[stage.name], task)
        if doc is None:
            raise InputError(f"the stored {stage.name} result of {task.video} in {store.root} is missing or stale "
                             "(the video changed since its shard ran); run its shard again, then merge.")
        task.data[stage.name] = doc["data"]
    return task


def _stats_from_dict(doc: dict[str, Any]) -> StageStats:
    stats = StageStats(**{k: doc[k] for k in ("items", "ok", "failed", "cached", "skipped", "batches", "busy_s")})
    for k, v in doc.get("counters", {}).items():
        stats.add(k, v)
    return stats


def run(
    inputs: list[str] | tuple[str, ...] | str,
    output: str | os.PathLike[str],
    recipe: str = "probe",
    preset: str = "default",
    config: str | os.PathLike[str] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    progress: bool | None = None,
) -> RunResult:
    """Run a recipe, as ``vidfast run`` does.

    ``inputs`` are video files, directories or list files; ``overrides`` are ``key=value`` strings as
    for ``--set``. Returns a ``RunResult`` whose ``report`` is also written to ``report.json``.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [os.fspath(inputs)]
    extra = list(overrides) + ([f"runtime.progress={str(progress).lower()}"] if progress is not None else [])
    cfg = load_config(preset, config, extra, recipe=recipe)
    return run_config(inputs, output, cfg)
