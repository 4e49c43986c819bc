"""kill -9 of a real grounding run at three depths, then resume: outputs identical to an uninterrupted run.

The reduced CI version of ``bench/bench_reliability.py`` (which kills at >= 10 random moments, also an
LLM recipe): here the kill points are chosen by progress - as soon as the first, about half, and all
of the stage results are stored (then the export is running) - so each depth is hit on any machine speed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from vidfast.runtime.store import output_digests
from vidfast.synth import SynthOptions, generate

pytestmark = pytest.mark.slow  # ~1-2 min: 7 grounding runs on the embedded models

ENV = {**os.environ, "VIDFAST_REPORT_HTML": "0"}


def _cmd(videos: list[str], out: Path) -> list[str]:
    return [sys.executable, "-m", "vidfast.cli", "run", *videos, "-o", str(out), "--recipe", "grounding",
            "--preset", "embedded", "--no-progress"]


def _results(out: Path) -> int:
    state = out / "state"
    return sum(1 for _ in state.rglob("*.json")) if state.is_dir() else 0


def _kill_when(videos: list[str], out: Path, stored: int) -> int:
    """Start the run; SIGKILL it once ``stored`` stage results exist. Returns how many there were."""
    proc = subprocess.Popen(_cmd(videos, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV,
                            start_new_session=True)
    while proc.poll() is None and _results(out) < stored:
        time.sleep(0.005)
    assert proc.poll() is None, "the run finished before the kill point"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return _results(out)


def test_kill_9_then_resume_is_byte_identical(tmp_path: Path) -> None:
    videos = []
    for i, (codec, ext) in enumerate([("h264", ".mp4"), ("vp9", ".webm"), ("mjpeg", ".avi")]):
        path = tmp_path / "in" / f"v{i}{ext}"
        generate(path, SynthOptions(duration=3.0, size=(160, 90), codec=codec, scenes=3, seed=i))
        videos.append(str(path))
    ref = tmp_path / "ref"
    subprocess.run(_cmd(videos, ref), check=True, capture_output=True, env=ENV)
    want = output_digests(ref)
    total = _results(ref)
    assert "grounding.jsonl" in want and total == 5 * len(videos)  # 5 stored stages (2 are transient)
    # after the first result, mid-way, and once every stage result is stored (the export is running)
    for stored in (1, total // 2, total):
        out = tmp_path / f"kill_at_{stored}"
        _kill_when(videos, out, stored)
        subprocess.run(_cmd(videos, out), check=True, capture_output=True, env=ENV)
        got = output_digests(out)
        assert sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k)) == [], f"kill at {stored}"
        rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
        assert Counter(r["video"] for r in rows) == Counter(videos)  # each video exactly once, none lost
        assert not list(out.rglob(".*.tmp"))  # no partial writes left behind
        shutil.rmtree(out)
