"""kill -9 at random points, then resume: the outputs must be byte-identical to an uninterrupted run.

For each recipe (grounding on 16 synthetic videos with the embedded models; videochat, text-only from a
caption file of 4 ids, on SmolLM2 with the transformers backend and sampling on, 2 videos per engine
call) the script

1. runs ``vidfast run`` once uninterrupted (the reference);
2. until ``--kills`` runs were killed mid-run, at moments drawn at random (seeded) in the reference's
   wall time (``--by time``) or once a random number of the reference's stage results are stored,
   plus 0-300 ms (``--by progress``, which reaches every depth however loaded the machine): starts the same run into a fresh directory, sends SIGKILL to its process group at that
   moment, then runs it again to completion (the resume). A run that finished before its moment (the
   shared machine got faster) counts as no kill and shrinks the window for the next draws;
3. compares every output file of the resumed directory byte for byte with the reference
   (``vidfast.runtime.store.output_digests``: everything but report.json/report.html/locks), checks that
   the manifest lists every input exactly once with the reference's status, and that no JSONL output
   has a duplicated row.

    python -m bench.bench_reliability [--kills 10] [--seed 0] [--recipes grounding,videochat] [--by time]

Writes bench/results/reliability_<recipe>.json.
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
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import write_result
from vidfast.runtime.store import output_digests

WORK = Path(os.environ.get("VIDFAST_BENCH_TMP", "/tmp/vidfast-bench-reliability"))
ENV = {**os.environ, "VIDFAST_REPORT_HTML": "0"}
CAPTIONS = {
    f"clip_{i:02d}": {"duration": 8.0, "timestamps": [[0, 4], [4, 8]], "sentences": s}
    for i, s in enumerate([
        ["A man opens a red door.", "He walks into a bright kitchen."],
        ["Two children kick a ball in a park.", "A dog chases it across the grass."],
        ["A woman slices bread on a board.", "She spreads butter on each slice."],
        ["A cyclist rides down a mountain road.", "He stops at a viewpoint to take a photo."],
    ])
}


def make_videos(d: Path, n: int) -> list[str]:
    """``n`` small synthetic videos, cycling through h264 (mp4), vp9 (webm) and mjpeg (avi)."""
    from vidfast.synth import SynthOptions, generate

    d.mkdir(parents=True, exist_ok=True)
    kinds = [("h264", ".mp4"), ("vp9", ".webm"), ("mjpeg", ".avi")]
    out = []
    for i in range(n):
        codec, ext = kinds[i % 3]
        path = d / f"v{i:02d}_{codec}{ext}"
        if not path.exists():
            generate(path, SynthOptions(duration=4.0, size=(192, 108), codec=codec, scenes=3, seed=i))
        out.append(str(path))
    return out


def recipe_command(recipe: str, inputs_dir: Path) -> tuple[list[str], list[str]]:
    """(arguments after ``vidfast run``, input names) of one recipe's run."""
    if recipe == "grounding":
        videos = make_videos(inputs_dir / "videos", 16)
        return [*videos, "--recipe", "grounding", "--preset", "embedded"], videos
    if recipe == "videochat":
        caps = inputs_dir / "captions.json"
        inputs_dir.mkdir(parents=True, exist_ok=True)
        caps.write_text(json.dumps(CAPTIONS, indent=1))
        # sampling on (the prompts' temperatures, per-request seeds), 16-token answers (most are then
        # invalid and their raw text goes to failures.jsonl: compared byte for byte too), no retry; two
        # videos per engine call, so results are stored batch by batch and a kill can fall between them
        args = [str(caps), "--recipe", "videochat", "--preset", "embedded", "--captions", str(caps),
                "--set", "llm.backend=transformers", "--set", "llm.max_tokens=16", "--set", "llm.max_retries=0",
                "--set", "llm.batch_size=4", "--set", "llm.videos_per_batch=2", "--set", "runtime.workers=1"]
        return args, list(CAPTIONS)
    raise SystemExit(f"unknown recipe {recipe!r}")


def vidfast_cmd(args: list[str], out: Path) -> list[str]:
    return [sys.executable, "-m", "vidfast.cli", "run", *args, "-o", str(out), "--no-progress"]


def run_to_end(args: list[str], out: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(vidfast_cmd(args, out), capture_output=True, text=True, env=ENV, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"vidfast run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def stored_results(out: Path) -> int:
    state = out / "state"
    return sum(1 for _ in state.rglob("*.json")) if state.is_dir() else 0


def kill_at(args: list[str], out: Path, at_s: float, after_results: int | None = None) -> dict[str, Any]:
    """Start the run, SIGKILL its process group after ``at_s`` seconds (counted from when
    ``after_results`` stage results are stored, when given); what existed at the kill."""
    proc = subprocess.Popen(vidfast_cmd(args, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=ENV, start_new_session=True)
    start = time.perf_counter()
    while after_results is not None and proc.poll() is None and stored_results(out) < after_results:
        time.sleep(0.005)
    deadline = time.perf_counter() + at_s
    while time.perf_counter() < deadline and proc.poll() is None:
        time.sleep(0.01)
    finished = proc.poll() is not None
    elapsed = time.perf_counter() - start
    if not finished:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    results = stored_results(out)
    partial = sum(1 for p in out.rglob(".*.tmp")) if out.is_dir() else 0
    return {"at_s": round(at_s, 3), "after_results": after_results, "elapsed_s": round(elapsed, 3), "finished_before_kill": finished,
            "stage_results_at_kill": results,
            "partial_files_at_kill": partial, "report_at_kill": (out / "report.json").exists()}


def check(out: Path, ref: Path, ref_digests: dict[str, str], inputs: list[str]) -> dict[str, Any]:
    got = output_digests(out)
    differing = sorted(k for k in set(got) | set(ref_digests) if got.get(k) != ref_digests.get(k))
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    ref_rows = {r["video"]: r["status"] for r in map(json.loads, (ref / "manifest.jsonl").read_text().splitlines())}
    per_video = Counter(r["video"] for r in rows)
    duplicate_rows = 0
    for path in out.glob("*.jsonl"):
        lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
        duplicate_rows += len(lines) - len(set(lines))
    return {
        "identical": not differing,
        "differing_files": differing[:20],
        "files_compared": len(ref_digests),
        "videos_missing": sorted(set(inputs) - set(per_video)),
        "videos_listed_twice": sorted(v for v, n in per_video.items() if n > 1),
        "status_changed": sorted(r["video"] for r in rows if ref_rows.get(r["video"]) != r["status"]),
        "duplicate_jsonl_rows": duplicate_rows,
    }


def bench_recipe(recipe: str, kills: int, rng: random.Random, by: str) -> dict[str, Any]:
    base = WORK / recipe
    args, inputs = recipe_command(recipe, WORK / "inputs" / recipe)
    ref = base / "reference"
    shutil.rmtree(ref, ignore_errors=True)
    ref_wall = run_to_end(args, ref)
    ref_digests = output_digests(ref)
    total = stored_results(ref)
    print(f"{recipe}: reference run {ref_wall:.1f} s, {len(ref_digests)} output files", flush=True)
    points: list[dict[str, Any]] = []
    horizon = ref_wall  # kill times are drawn in [5%, 95%] of it; shrunk when a run finishes first
    k = 0
    while sum(not p["finished_before_kill"] for p in points) < kills and k < 3 * kills:
        out = base / f"kill_{k:02d}"
        k += 1
        shutil.rmtree(out, ignore_errors=True)
        if by == "time":
            at, after = rng.uniform(0.05, 0.95) * horizon, None
        else:  # once a random number of the reference's stage results are stored, plus 0-300 ms
            at, after = rng.uniform(0.0, 0.3), rng.randint(0, total)
        killed = kill_at(args, out, at, after)
        if killed["finished_before_kill"]:  # the machine got faster: that was no kill, draw again
            horizon = min(horizon, killed["elapsed_s"])
        resume_wall = run_to_end(args, out)
        result = {**killed, "resume_s": round(resume_wall, 2), **check(out, ref, ref_digests, inputs)}
        points.append(result)
        first = " (finished first)" if killed["finished_before_kill"] else ""
        when = f"{at:6.2f} s" if after is None else f"{after:3d} results + {at:4.2f} s"
        print(f"  kill {k - 1:2d} at {when}{first}: {killed['stage_results_at_kill']:3d} stage results stored, "
              f"{killed['partial_files_at_kill']} partial files; resume {resume_wall:5.1f} s; "
              f"identical={result['identical']} dup_rows={result['duplicate_jsonl_rows']} "
              f"missing={len(result['videos_missing'])}", flush=True)
        shutil.rmtree(out, ignore_errors=True)
    really_killed = [p for p in points if not p["finished_before_kill"]]
    depth = sorted(p["stage_results_at_kill"] for p in really_killed)
    return {
        "inputs": len(inputs),
        "reference_wall_s": round(ref_wall, 2),
        "output_files_compared": len(ref_digests),
        "kill_points_by": by,
        "stage_results_total": total,
        "stage_results_at_kill": depth,
        "kill_attempts": len(points),
        "killed_mid_run": len(really_killed),
        "identical_after_resume": sum(p["identical"] for p in really_killed),
        "identical_after_rerun_of_finished": sum(p["identical"] for p in points if p["finished_before_kill"]),
        "duplicate_jsonl_rows": sum(p["duplicate_jsonl_rows"] for p in points),
        "videos_lost": sum(len(p["videos_missing"]) for p in points),
        "videos_listed_twice": sum(len(p["videos_listed_twice"]) for p in points),
        "status_changed": sum(len(p["status_changed"]) for p in points),
        "points": points,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recipes", default="grounding,videochat")
    parser.add_argument("--by", choices=["time", "progress"], default="time",
                        help="draw kill moments in the reference's wall time, or as a number of stored stage "
                             "results (+ 0-300 ms): covers every depth whatever the machine's load")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cmd = (f"python -m bench.bench_reliability --kills {args.kills} --seed {args.seed} --recipes {args.recipes}"
           f" --by {args.by}")
    results: dict[str, Any] = {}
    for name in args.recipes.split(","):
        results[name] = bench_recipe(name, args.kills, rng, args.by)
        path = write_result(f"reliability_{name}", {"command": cmd, "executor": "local", "recipe": results[name]})
    for name, r in results.items():
        print(f"{name}: {r['identical_after_resume']}/{r['killed_mid_run']} identical after kill -9 and resume "
              f"({r['kill_attempts']} attempts), {r['videos_lost']} lost, "
              f"{r['duplicate_jsonl_rows']} duplicate rows")
    print("wrote", path)


if __name__ == "__main__":
    main()
