"""kill -9 of a Ray-executor run at random points, then resume: the outputs must be byte-identical.

One uninterrupted ``vidfast run --recipe grounding --preset embedded --set runtime.executor=ray`` is
the reference. Then, for each of ``--kills`` kill points (times drawn uniformly, seeded, over the
reference run's wall time), a fresh run directory: the same command is started in its own process
group, SIGKILLed as a whole (driver, the local Ray cluster it started, every worker) at that time, and
then run again to completion (the resume). The resumed directory's outputs — grounding.jsonl,
duplicates.jsonl, hawkeye/*, every state/ file (stage results and arrays) — are compared byte for byte
with the reference's; the manifest is compared on its per-video status and error (its per-stage
statuses say "cached" for what the killed run had finished). Also recorded per kill point: how many
stage results the killed run had stored, and the resume's wall time.

    python bench/bench_kill_resume.py                # 10 kill points, 4 clips
    python bench/bench_kill_resume.py --kills 12 --seed 1 --out kill_resume_b1 \
        --set runtime.ray.stages.clip.batch_size=1 --set runtime.ray.stages.captions.batch_size=1 \
        --set runtime.ray.stages.caption_scores.batch_size=1   # model stages interleave with decoding

Writes bench/results/kill_resume.json (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.bench_executors import load, outputs, vidfast_cmd  # noqa: E402
from bench.bench_grounding import find_videos  # noqa: E402
from bench.common import write_result  # noqa: E402


def manifest_outcome(root: Path) -> list[tuple[str, str, Any]]:
    rows = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines() if line.strip()]
    return [(r["video_id"], r["status"], r["error"]) for r in rows]


def compared(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in outputs(root).items() if k != "manifest.jsonl"}


def run_to_end(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"run failed ({proc.returncode}): {proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def killed_run(cmd: list[str], after_s: float) -> dict[str, Any]:
    """Start ``cmd`` in its own process group and SIGKILL the whole group after ``after_s`` seconds."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        proc.wait(timeout=after_s)
        return {"finished_before_kill": True}
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group this run leads: its driver, cluster and workers
        proc.wait()
        time.sleep(2.0)  # let the kernel reap the group before the resume starts a new cluster
        return {"finished_before_kill": False}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="kill points")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--videos", nargs="*", default=["bikes", "testvideo", "fades", "synth_640x360_20s"],
                        help="bench clips (bench_grounding names)")
    parser.add_argument("--set", dest="sets", action="append", default=[],
                        help="extra config key=value for every run (e.g. runtime.ray.stages.clip.batch_size=1)")
    parser.add_argument("--out", default="kill_resume", help="result name under bench/results/")
    args = parser.parse_args()
    found = find_videos(quick=False, long=False)
    videos = {k: found[k] for k in args.videos if k in found}
    rng = random.Random(args.seed)
    payload: dict[str, Any] = {"command": " ".join(["python", "bench/bench_kill_resume.py", *sys.argv[1:]]),
                               "videos": {k: str(v) for k, v in videos.items()}, "load_at_start": load()}
    with tempfile.TemporaryDirectory(prefix="bench_kill_") as tmp:
        inputs = Path(tmp) / "inputs"
        inputs.mkdir()
        for name, path in videos.items():
            (inputs / f"{name}{path.suffix}").symlink_to(path)
        sets = ["runtime.executor=ray", "runtime.ray.num_cpus=2", *args.sets]
        ref_dir = Path(tmp) / "reference"
        ref_wall = run_to_end(vidfast_cmd(inputs, ref_dir, *sets))
        reference, ref_manifest = compared(ref_dir), manifest_outcome(ref_dir)
        print(f"reference: {ref_wall:.1f} s, {len(reference)} files compared", flush=True)
        points = []
        for k in range(args.kills):
            at = round(rng.uniform(1.0, ref_wall), 2)
            out = Path(tmp) / f"kill{k}"
            info = killed_run(vidfast_cmd(inputs, out, *sets), at)
            stored = sum(1 for p in (out / "state").rglob("*.json")) if (out / "state").is_dir() else 0
            resume_s = run_to_end(vidfast_cmd(inputs, out, *sets))
            same = compared(out) == reference
            same_manifest = manifest_outcome(out) == ref_manifest
            resumed = json.loads((out / "report.json").read_text())["stages"]
            cached = {name: st["cached"] for name, st in resumed.items()}
            points.append({"kill_at_s": at, **info, "stage_results_stored_at_kill": stored,
                           "resume_wall_s": round(resume_s, 2), "resume_cached": cached,
                           "outputs_identical": same, "manifest_outcome_identical": same_manifest,
                           "load": load()})
            print(f"kill {k}: at {at:6.2f} s, {stored:3d} results stored, resume {resume_s:6.1f} s, "
                  f"identical {same} manifest {same_manifest}, cached {cached}", flush=True)
            shutil.rmtree(out, ignore_errors=True)
    payload.update({"reference_wall_s": round(ref_wall, 2), "kill_points": points,
                    "all_identical": all(p["outputs_identical"] and p["manifest_outcome_identical"] for p in points),
                    "killed_mid_run": sum(not p["finished_before_kill"] for p in points), "load_at_end": load()})
    print(f"all identical: {payload['all_identical']} ({payload['killed_mid_run']} of {len(points)} killed mid-run)")
    print(write_result(args.out, payload))


if __name__ == "__main__":
    main()
