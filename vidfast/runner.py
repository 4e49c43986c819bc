"""Run a recipe over inputs into a run directory: the code behind ``vidfast run`` and ``vidfast.run``."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidfast import __version__, envs
from vidfast.config import RunConfig, config_yaml, load_config
from vidfast.recipes import ExportContext, get_recipe
from vidfast.recipes.llm_common import expand_run_inputs
from vidfast.runtime.executor import ExecutorOptions, LocalExecutor, RunOutcome, describe_stats
from vidfast.runtime.lock import RunLock
from vidfast.runtime.records import VideoTask
from vidfast.runtime.store import RunStore, atomic_write_json, atomic_write_text

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """The outcome of a run: where it is, its report, and its tasks."""

    out_dir: Path
    report: dict[str, Any]
    tasks: list[VideoTask]

    @property
    def manifest_path(self) -> Path:
        return self.out_dir / "manifest.jsonl"

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


def run_config(inputs: list[str] | tuple[str, ...], output: str | os.PathLike[str], cfg: RunConfig) -> RunResult:
    """Run ``cfg.recipe`` over ``inputs`` into ``output`` with a resolved configuration.

    A captions or predictions file named among the inputs stands for its ids (text-only LLM runs).
    """
    started = time.time()
    recipe = get_recipe(cfg.recipe)
    store = RunStore(output)
    store.prepare()
    with RunLock(store.root, getattr(cfg.runtime, "shard", None)):  # one writer per run directory
        return _run_locked(inputs, store, cfg, recipe, started)


def _run_locked(inputs: list[str] | tuple[str, ...], store: RunStore, cfg: RunConfig, recipe: Any,
                started: float) -> RunResult:
    store.remove_partial_writes()  # temporary files of a killed run's unfinished writes
    videos = expand_run_inputs(list(inputs), cfg.llm.captions, cfg.llm.predictions)
    tasks = [VideoTask(v.path, v.source) for v in videos]
    atomic_write_text(store.root / "config.yaml", config_yaml(cfg))
    options = ExecutorOptions(workers=cfg.runtime.workers, queue_size=cfg.runtime.queue_size,
                              progress=cfg.runtime.progress, retry_failed=cfg.runtime.retry_failed)
    executor = LocalExecutor(recipe.build_stages(cfg), store, options, on_checkpoint=store.write_manifest)
    try:
        outcome = executor.run(tasks)
    finally:
        store.write_manifest(tasks)  # whatever finished is recorded, even when the run is interrupted
    ctx = ExportContext(store.root, cfg, tasks)
    outputs = recipe.export(ctx)
    report = build_report(cfg, outcome, outputs, started)
    report["export"] = ctx.stats
    atomic_write_json(store.root / "report.json", report)
    if cfg.runtime.report_html and envs.flag("VIDFAST_REPORT_HTML"):
        _write_html(store.root)
    return RunResult(store.root, report, tasks)


def _write_html(root: Path) -> None:
    """``report.html`` beside ``report.json``; a plotting problem never fails a finished run."""
    from vidfast.run_report import write_report

    try:
        write_report(root)
    except Exception as exc:  # noqa: BLE001 - the outputs and report.json are already written
        log.warning("could not write %s/report.html (%s: %s); retry with `vidfast report %s`",
                    root, type(exc).__name__, exc, root)


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
