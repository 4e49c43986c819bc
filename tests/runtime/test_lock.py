"""One writer per run directory: a second run refuses with an error naming the holder; kill -9 frees it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from vidfast.errors import OutputError
from vidfast.runtime.lock import RunLock, lock_name

HOLD = textwrap.dedent("""
    import sys, time
    from vidfast.runtime.lock import RunLock
    lock = RunLock(sys.argv[1], sys.argv[2] or None).acquire()
    print("held", flush=True)
    time.sleep(120)
""")


def _holder(run_dir: Path, shard: str = "") -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir), shard], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_lock_names() -> None:
    assert lock_name(None) == "run.lock"
    assert lock_name("2/8") == "run.2-of-8.lock"
    with pytest.raises(OutputError, match="i/n"):
        lock_name("8/8")


def test_second_holder_refused_with_pid_and_fix_then_freed_by_kill_9(tmp_path: Path) -> None:
    proc = _holder(tmp_path)
    try:
        with pytest.raises(OutputError) as err:
            RunLock(tmp_path).acquire()
        msg = str(err.value)
        assert f"pid {proc.pid}" in msg and "-o/--output" in msg and "started" in msg
        assert json.loads((tmp_path / "run.lock").read_text())["pid"] == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with RunLock(tmp_path) as lock:  # no stale lock after kill -9
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    assert (tmp_path / "run.lock").read_text() == ""  # the holder line is cleared on release


def test_shards_share_a_directory_but_not_with_an_unsharded_run(tmp_path: Path) -> None:
    proc = _holder(tmp_path, "0/2")
    try:
        with RunLock(tmp_path, "1/2"):  # another shard: fine
            pass
        with pytest.raises(OutputError, match="shard 0/2"):
            RunLock(tmp_path, "0/2").acquire()  # the same shard twice: refused
        with pytest.raises(OutputError, match=f"pid {proc.pid}"):
            RunLock(tmp_path).acquire()  # an unsharded run beside shards: refused, names the shard
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with RunLock(tmp_path):
        pass


def test_two_vidfast_runs_on_one_directory(tmp_path: Path, synth_h264) -> None:
    """The second ``vidfast run`` exits with status 2 and a clear error; the first finishes intact."""
    out = tmp_path / "run"
    videos = [str(synth_h264.path)] * 1
    env = {**os.environ, "VIDFAST_REPORT_HTML": "0"}
    cmd = [sys.executable, "-m", "vidfast.cli", "run", *videos, "-o", str(out), "--no-progress"]
    out.mkdir()
    first = _holder(out)  # stands for a running vidfast run (holds the same lock a run holds)
    try:
        second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert second.returncode == 2
    assert f"in use by another run: vidfast pid {first.pid}" in second.stderr
    assert not (out / "manifest.jsonl").exists()  # refused before writing anything
    ok = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert ok.returncode == 0, ok.stderr
    assert (out / "manifest.jsonl").exists()


def test_concurrent_real_runs_one_refused_nothing_corrupted(tmp_path: Path, synth_h264, synth_vp9) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "VIDFAST_REPORT_HTML": "0"}
    cmd = [sys.executable, "-m", "vidfast.cli", "run", str(synth_h264.path), str(synth_vp9.path), "-o", str(out),
           "--no-progress"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)]
    time.sleep(0.3)
    procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    codes = sorted(rc for rc, _ in results)
    # either they overlapped (one refused) or the first had already finished (both fine); never a mix-up
    assert codes in ([0, 2], [0, 0]), results
    refused = [err for rc, err in results if rc == 2]
    assert all("in use by another run" in err for err in refused)
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["status"] == "done" for r in rows)
