"""The local executor: batching, per-item failures, caching, resumption after a kill.

These tests drive the executor with small stages written here, because they are about the runtime's
mechanics; the end-to-end tests in tests/test_cli.py run real recipes on real videos.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass
from typing import ClassVar

import pytest

from vidfast.runtime.executor import ExecutorOptions, LocalExecutor
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Stage
from vidfast.runtime.store import RunStore

CALLS: dict[str, list[str]] = {}
_lock = threading.Lock()


def _record(stage: str, task: VideoTask) -> None:
    with _lock:
        CALLS.setdefault(stage, []).append(task.video)


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
            _record(self.name, task)
            task.data[self.name] = {"n": len(task.video) * self.scale}
        return batch


@dataclass
class Double(Stage):
    name: ClassVar[str] = "double"
    offset: int = 0

    def process_item(self, task: VideoTask) -> dict:
        _record(self.name, task)
        return {"n2": task.data["length"]["n"] * 2 + self.offset}


def _run(tmp_path, videos: list[str], length: Length | None = None, double: Double | None = None, **opts):
    CALLS.clear()
    tasks = [VideoTask(v) for v in videos]
    stages = [length or Length(), double or Double()]
    LocalExecutor(stages, RunStore(tmp_path), ExecutorOptions(progress=False, **opts)).run(tasks)
    return tasks


@pytest.fixture
def store_dir(tmp_path):
    RunStore(tmp_path).prepare()
    return tmp_path


def test_results_flow_and_one_bad_item_never_kills_its_batch(store_dir) -> None:
    videos = [f"/v/{i}.mp4" for i in range(10)] + ["/v/bad.mp4"]
    tasks = _run(store_dir, videos)
    assert [t.video for t in tasks] == videos
    good = [t for t in tasks if not t.failed]
    assert len(good) == 10 and all(t.data["double"]["n2"] == 2 * len(t.video) for t in good)
    bad = tasks[-1]
    assert bad.error.stage == "length" and bad.error.reason == "internal:ValueError"
    assert bad.stage_status == {"length": "failed", "double": "skipped"}


def test_rerun_does_no_work_and_config_change_reruns_only_downstream(store_dir) -> None:
    videos = [f"/v/{i}.mp4" for i in range(6)]
    _run(store_dir, videos)
    assert len(CALLS["length"]) == 6 and len(CALLS["double"]) == 6
    tasks = _run(store_dir, videos)
    assert CALLS == {} and all(t.stage_status == {"length": "cached", "double": "cached"} for t in tasks)
    tasks = _run(store_dir, videos, double=Double(offset=1))
    assert "length" not in CALLS and len(CALLS["double"]) == 6
    assert tasks[0].data["double"]["n2"] == 2 * len(videos[0]) + 1
    _run(store_dir, videos, length=Length(scale=2), double=Double(offset=1))  # upstream change reruns both
    assert len(CALLS["length"]) == 6 and len(CALLS["double"]) == 6


def test_stored_failures_are_kept_unless_retried(store_dir) -> None:
    _run(store_dir, ["/v/bad.mp4"])
    tasks = _run(store_dir, ["/v/bad.mp4"])
    assert CALLS == {} and tasks[0].failed
    _run(store_dir, ["/v/bad.mp4"], retry_failed=True)
    assert "double" not in CALLS  # retried, failed again, so the next stage is skipped


def test_a_broken_stage_stops_the_run_with_its_error(store_dir) -> None:
    @dataclass
    class Broken(Stage):
        name: ClassVar[str] = "broken"

        def setup(self) -> None:
            raise RuntimeError("model weights not found: /nowhere")

    with pytest.raises(RuntimeError, match="model weights not found"):
        LocalExecutor([Length(), Broken()], RunStore(store_dir), ExecutorOptions(progress=False)).run(
            [VideoTask(f"/v/{i}.mp4") for i in range(50)]
        )


def test_a_killed_run_resumes_where_it_stopped(store_dir) -> None:
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parent)!r})
        from test_executor import Length, Double, VideoTask, LocalExecutor, ExecutorOptions, RunStore
        class Dying(Double):
            def process_item(self, task):
                if task.video.endswith("/7.mp4"):
                    os._exit(9)  # as abrupt as SIGKILL: no cleanup, no flush
                return super().process_item(task)
        tasks = [VideoTask(f"/v/{{i}}.mp4") for i in range(12)]
        LocalExecutor([Length(), Dying()], RunStore({str(store_dir)!r}),
                      ExecutorOptions(progress=False, workers=1)).run(tasks)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    tasks = _run(store_dir, [f"/v/{i}.mp4" for i in range(12)], workers=1)
    # what finished before the kill is reused: only videos the first stage had not reached may re-run it
    assert set(CALLS.get("length", [])) <= {f"/v/{i}.mp4" for i in range(8, 12)}
    assert sorted(CALLS["double"]) == sorted(f"/v/{i}.mp4" for i in range(7, 12))
    assert all(not t.failed and "double" in t.data for t in tasks)


@dataclass
class Frames(Stage):
    """A transient stage: its output (think decoded frames) is handed on, never stored."""

    name: ClassVar[str] = "frames"
    persist: ClassVar[bool] = False

    def process_item(self, task: VideoTask) -> dict:
        _record(self.name, task)
        return {"n": len(task.video)}


def test_transient_stage_runs_only_when_its_consumer_must(store_dir) -> None:
    videos = [f"/v/{i}.mp4" for i in range(4)]

    def go(double: Double) -> list[VideoTask]:
        CALLS.clear()
        tasks = [VideoTask(v) for v in videos]
        LocalExecutor([Frames(), double], RunStore(store_dir), ExecutorOptions(progress=False)).run(tasks)
        return tasks

    @dataclass
    class UsesFrames(Double):
        def process_item(self, task: VideoTask) -> dict:
            _record(self.name, task)
            return {"n2": task.data["frames"]["n"] * 2 + self.offset}

    go(UsesFrames())
    assert len(CALLS["frames"]) == 4 and len(CALLS["double"]) == 4
    assert not (store_dir / "state" / "frames").exists()  # never written
    tasks = go(UsesFrames())
    assert CALLS == {} and tasks[0].stage_status == {"frames": "cached", "double": "cached"}
    tasks = go(UsesFrames(offset=3))  # the consumer must run, so the transient stage runs again first
    assert len(CALLS["frames"]) == 4 and tasks[0].data["double"]["n2"] == 2 * len(videos[0]) + 3


@dataclass
class ReadsFramesA(Stage):
    name: ClassVar[str] = "reads_a"
    uses: ClassVar[tuple[str, ...]] = ("frames",)
    offset: int = 0

    def process_item(self, task: VideoTask) -> dict:
        _record(self.name, task)
        return {"n": task.data["frames"]["n"] + self.offset}


@dataclass
class ReadsFramesB(ReadsFramesA):
    name: ClassVar[str] = "reads_b"


def test_a_transient_stage_feeds_every_stage_that_uses_it(store_dir) -> None:
    videos = [f"/v/{i}.mp4" for i in range(3)]

    def go(b_offset: int) -> list[VideoTask]:
        CALLS.clear()
        tasks = [VideoTask(v) for v in videos]
        stages = [Frames(), ReadsFramesA(), ReadsFramesB(offset=b_offset)]
        LocalExecutor(stages, RunStore(store_dir), ExecutorOptions(progress=False)).run(tasks)
        return tasks

    tasks = go(0)
    assert len(CALLS["frames"]) == 3 and len(CALLS["reads_a"]) == 3 and len(CALLS["reads_b"]) == 3
    assert all("frames" not in t.data for t in tasks)  # transient output dropped once the stages are done
    # only the second reader must run again: the frames are produced again for it (not only for reads_a)
    tasks = go(5)
    assert set(CALLS) == {"frames", "reads_b"} and len(CALLS["frames"]) == 3
    assert all(not t.failed and t.data["reads_b"]["n"] == len(t.video) + 5 for t in tasks)
    assert tasks[0].stage_status == {"frames": "done", "reads_a": "cached", "reads_b": "done"}
    tasks = go(5)
    assert CALLS == {} and tasks[0].stage_status["frames"] == "cached"
