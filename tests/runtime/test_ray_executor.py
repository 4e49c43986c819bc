"""The Ray executor on a 2-CPU local Ray cluster: the same outputs as the local executor, resumption,
failure isolation (bad videos, a broken stage, worker processes that die).

One cluster serves the module (ray.init takes a few seconds); the executor finds it initialised and
uses it. The executor-mechanics tests use small stages written here (sent to the Ray workers by value);
the end-to-end test runs the real grounding recipe with the embedded models on real videos.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

import vidfast
from vidfast.runtime.executor import ExecutorOptions
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Stage
from vidfast.runtime.store import RunStore

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'vidfast[ray]')")
pytest.importorskip("ray.data", reason="Ray Data is not installed (pip install 'ray[data]')")

from vidfast.runtime.ray_executor import WORKER_DIED, RayExecutor, RayOptions, RayStageOptions  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def ray_cluster():
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the test stages travel by value
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=256 << 20, logging_level="ERROR")
    yield
    ray.shutdown()


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_grounding_on_ray_writes_exactly_what_the_local_executor_writes(tmp_path, synth_h264, bikes_mp4,
                                                                        bad_videos) -> None:
    pytest.importorskip("transformers")
    inputs = [str(synth_h264.path), str(bad_videos["truncated"]), str(bikes_mp4)]
    results = {}
    for executor in ("local", "ray"):
        results[executor] = vidfast.run(inputs, tmp_path / executor, recipe="grounding", preset="embedded",
                                        progress=False, overrides=[f"runtime.executor={executor}"])
    local, on_ray = (_files(tmp_path / e) for e in ("local", "ray"))
    assert sorted(local) == sorted(on_ray)
    differ = sorted(name for name in local if local[name] != on_ray[name])
    assert differ == ["config.yaml", "report.json", "vidfast.log"], differ  # the executor's name; timings; log
    assert any(name.endswith(".npy") for name in local) and "grounding.jsonl" in local
    rep = results["ray"].report
    assert rep["videos"] == {"total": 3, "done": 2, "failed": 1, "skipped": 0}
    assert rep["videos"] == results["local"].report["videos"]
    for name, st in rep["stages"].items():  # every batch's statistics came back to the driver
        assert st["items"] == results["local"].report["stages"][name]["items"], name
    assert rep["stages"]["clip"]["counters"]["frames"] == results["local"].report["stages"]["clip"]["counters"]["frames"]

    again = vidfast.run(inputs, tmp_path / "ray", recipe="grounding", preset="embedded", progress=False,
                        overrides=["runtime.executor=ray"])  # resumes: every stored result is reused
    stages = again.report["stages"]
    assert stages["shots"]["cached"] == 2 and stages["caption_scores"]["cached"] == 2
    assert all(st["ok"] == 0 for st in stages.values()), stages
    after = _files(tmp_path / "ray")
    changed = sorted(n for n in on_ray if after[n] != on_ray[n])
    assert changed == ["manifest.jsonl", "report.json", "vidfast.log"], changed  # stages now "cached"; timings; log


def test_a_stage_that_cannot_load_its_model_stops_the_run_with_its_error(tmp_path, synth_h264) -> None:
    pytest.importorskip("transformers")
    errors = {}
    for executor in ("local", "ray"):
        with pytest.raises(Exception, match="nowhere-blip2") as exc:
            vidfast.run([str(synth_h264.path)], tmp_path / executor, recipe="grounding", preset="embedded",
                        progress=False, overrides=[f"runtime.executor={executor}", "models.blip2=/nowhere-blip2"])
        errors[executor] = exc.value
    assert type(errors["ray"]) is type(errors["local"]) and str(errors["ray"]) == str(errors["local"])


# ---------------------------------------------------------------------------------------------- mechanics

@dataclass
class Length(Stage):
    name: ClassVar[str] = "length"
    batch_size: ClassVar[int] = 4
    scale: int = 1

    def process(self, batch: list[VideoTask]) -> list[VideoTask]:
        for task in batch:  # a batched stage that raises for the whole batch when one item is bad
            if "bad" in task.video:
                raise ValueError(f"cannot handle {task.video}")
        for task in batch:
            task.data[self.name] = {"n": len(task.video) * self.scale, "pid": os.getpid()}
        return batch


@dataclass
class Killer(Stage):
    """Kills its worker process: once per video whose name holds "once" (marker files remember), and
    every time for videos whose name holds "always"."""

    name: ClassVar[str] = "killer"
    marks: str = ""

    def setup(self) -> None:  # a model stage: runs in an actor pool
        self.loaded_in = os.getpid()

    def process_item(self, task: VideoTask) -> dict:
        mark = Path(self.marks) / Path(task.video).name
        if "always" in task.video or ("once" in task.video and not mark.exists()):
            mark.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return {"n2": task.data["length"]["n"] * 2}


def _run(root: Path, videos: list[str], stages: list[Stage], **ray_opts) -> tuple[list[VideoTask], dict]:
    store = RunStore(root)
    store.prepare()
    tasks = [VideoTask(v) for v in videos]
    outcome = RayExecutor(stages, store, ExecutorOptions(progress=False),
                          RayOptions(**ray_opts)).run(tasks)
    return tasks, {k: v.to_dict() for k, v in outcome.stage_stats.items()}


def test_failures_stay_per_video_and_killed_workers_are_retried(tmp_path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    videos = [f"/v/{i}.mp4" for i in range(6)] + ["/v/bad.mp4", "/v/once.mp4", "/v/always.mp4"]
    stages = [Length(), Killer(marks=str(marks))]
    tasks, _ = _run(tmp_path / "run", videos, stages, worker_retries=1)
    by_video = {t.video: t for t in tasks}
    assert [t.video for t in tasks] == videos
    good = [by_video[v] for v in videos[:6] + ["/v/once.mp4"]]
    # a re-run batch finds the results its killed attempt stored: "cached"
    assert all(t.stage_status["length"] in ("done", "cached") and t.stage_status["killer"] in ("done", "cached")
               and not t.failed for t in good), [t.stage_status for t in good]
    assert all(t.data["killer"]["n2"] == 2 * len(t.video) for t in good)
    assert (marks / "once.mp4").exists()  # its worker was killed once, and the batch ran again
    bad = by_video["/v/bad.mp4"]
    assert bad.error.stage == "length" and bad.error.reason == "internal:ValueError"
    assert bad.stage_status == {"length": "failed", "killer": "skipped"}
    died = by_video["/v/always.mp4"]
    assert died.error.stage == "killer" and died.error.reason == WORKER_DIED and "died" in died.error.message
    assert died.stage_status["killer"] == "failed" and died.stage_status["length"] in ("done", "cached")

    # a re-run reuses every stored result, the worker_died failure included (unless retried)
    tasks2, stats2 = _run(tmp_path / "run", videos, stages, worker_retries=1)
    assert stats2["length"]["ok"] == 0 and stats2["killer"]["ok"] == 0
    assert stats2["killer"]["cached"] == 8
    assert [(t.status(), t.error) for t in tasks2] == [(t.status(), t.error) for t in tasks]
    # a config change re-runs only the stages downstream of it
    tasks3, stats3 = _run(tmp_path / "run", videos[:6], [Length(scale=2), Killer(marks=str(marks))])
    assert stats3["length"]["ok"] == 6 and stats3["killer"]["ok"] == 6
    assert tasks3[0].data["killer"]["n2"] == 4 * len(videos[0])


def _gpu_stage(stage_name: str, gpus: float) -> Stage:
    from vidfast.runtime.stage import Resources

    cls = type(f"Gpu_{stage_name}", (Killer,), {"name": stage_name, "resources": Resources(gpus=gpus)})
    return dataclass(cls)()


def test_per_stage_resources_and_unknown_stage_names(tmp_path) -> None:
    from vidfast.errors import ConfigError
    from vidfast.runtime.ray_executor import plan_stages

    stages = [Length(), Killer()]
    plans = plan_stages(stages, RayOptions(stages={"killer": RayStageOptions(actors=2, num_cpus=0.5)}), 0.0)
    assert [(p.name, p.actor, p.pool, p.num_cpus, p.num_gpus) for p in plans] == [
        ("length", False, (1, 1), 1.0, 0.0), ("killer", True, (2, 2), 0.5, 0.0)]
    gpu = plan_stages(stages, RayOptions(stages={"length": RayStageOptions(num_gpus=0.5)}), 4.0)
    assert gpu[0].actor and gpu[0].num_gpus == 0.5 and gpu[0].pool == (1, 8)  # a GPU stage gets actors
    assert gpu[1].num_cpus == 0.0 and gpu[1].num_gpus == 0.0  # Killer declares no GPU: stays on CPU
    # default shares that would not all fit (0.25 + 1 + 0.25 on one GPU) shrink so every stage gets an actor
    clip, blip, score = (_gpu_stage(n, g) for n, g in (("clip", 0.25), ("captions", 1.0), ("scores", 0.25)))
    fit = plan_stages([clip, blip, score], RayOptions(), 1.0)
    assert sum(p.num_gpus for p in fit) <= 1.0 and fit[1].num_gpus > 2 * fit[0].num_gpus > 0
    roomy = plan_stages([clip, blip, score], RayOptions(), 8.0)
    assert [p.num_gpus for p in roomy] == [0.25, 1.0, 0.25] and roomy[1].pool == (1, 8)
    kept = plan_stages([clip, blip, score], RayOptions(stages={"captions": RayStageOptions(num_gpus=0.5)}), 1.0)
    assert kept[1].num_gpus == 0.5 and kept[0].num_gpus == kept[2].num_gpus == 0.25
    with pytest.raises(ConfigError, match="need 2 GPUs"):
        plan_stages([clip, blip], RayOptions(stages={"captions": RayStageOptions(num_gpus=1, actors=2)}), 1.0)
    with pytest.raises(ConfigError, match="clip.*its stages are: length, killer"):
        plan_stages(stages, RayOptions(stages={"clip": RayStageOptions(num_gpus=1)}), 0.0)
    with pytest.raises(ConfigError, match="has 0 GPUs"):
        plan_stages(stages, RayOptions(stages={"killer": RayStageOptions(num_gpus=1)}), 0.0)
