"""Executors side by side: the Ray executor vs the local one, and ``runtime.shard`` scaling.

Part 1 — ``vidfast run --recipe grounding --preset embedded`` over the grounding bench clips
(bench/bench_grounding.py's: bikes, the TransNetV2 test video, the shared PySceneDetect clips, three
synthetic 640x360 clips; ``--copies`` symlinked copies of each, so the run is long enough for fixed
costs to matter less), each run a fresh process into a fresh directory, alternating:

- ``local``        — ``runtime.executor=local`` (threads, bounded queues);
- ``ray``          — ``runtime.executor=ray``, the run starts its own 2-CPU local Ray cluster;
- ``ray_cluster``  — ``runtime.executor=ray`` joining a 2-CPU cluster that is already up (as on a real
  cluster; started here by a helper process, with ``ray.init``, and stopped by it at the end).

Wall seconds are the whole command (interpreter start, imports, model loads, cluster start, export);
``run_s`` is the executor + export part from the run's report.json. The outputs of every run are
compared with the local run's (grounding.jsonl, duplicates.jsonl, hawkeye/*, state/) byte for byte.
Target: ray / local <= 1.3 on wall time.

Part 2 — ``runtime.shard`` scaling on independent videos (``--shard-videos`` symlinks of one 20 s
synthetic clip, each a distinct video): one process pinned to one core (``taskset``-style affinity,
``runtime.shard=0/1``, one worker, one OpenMP thread) vs n=2 processes pinned to cores 0 and 1
(``runtime.shard=0/2`` and ``1/2`` into one directory, started together), then ``vidfast merge``.
Scaling = wall(n=1) / wall(n=2) (the two processes' slower one); target >= 0.9 n = 1.8. CPU seconds
per video (the processes' user + system time) show whether sharding adds work: on a machine whose
cores other jobs share, it is the steadier figure. The merged outputs are compared with the n=1 run's.

The machine is shared: the load average is recorded before and after every run; rerun when it is
high. Writes bench/results/executors.json.

    python bench/bench_executors.py                 # copies=2, repeat=2, 16 shard videos
    python bench/bench_executors.py --quick         # one repeat, copies=1, 8 shard videos
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.bench_grounding import find_videos, synthetic  # noqa: E402
from bench.common import write_result  # noqa: E402

COMPARED = ("grounding.jsonl", "duplicates.jsonl", "manifest.jsonl")
CLUSTER_HELPER = """
import sys, ray
ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()  # until the bench closes our stdin
ray.shutdown()
"""


# The helper's cluster and the runs joining it: a throw-away local cluster, without Ray 2.60's token
# authentication (a process joining another's ray.init cluster is otherwise refused).
CLUSTER_ENV = dict(os.environ, RAY_AUTH_MODE="disabled")


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def outputs(root: Path) -> dict[str, bytes]:
    """The files that must not depend on the executor (the manifest: statuses and errors)."""
    files = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_file() and (rel in COMPARED or rel.startswith(("hawkeye/", "state/"))):
            files[rel] = p.read_bytes()
    return files


def same_outputs(a: dict[str, bytes], b: dict[str, bytes]) -> dict[str, Any]:
    """Byte equality of the datasets, manifests and stored JSON results; the stored float arrays (CLIP
    embeddings, similarities) by their largest difference: a model's float results depend on the batch
    an image shares (which videos a worker batches together), at the float32 rounding level."""
    import io

    import numpy as np

    differ = sorted(k for k in set(a) | set(b) if not k.endswith(".npy") and a.get(k) != b.get(k))
    worst = 0.0
    for k in sorted(set(a) | set(b)):
        if k.endswith(".npy") and a.get(k) != b.get(k):
            if k not in a or k not in b:
                differ.append(k)
                continue
            x, y = np.load(io.BytesIO(a[k])), np.load(io.BytesIO(b[k]))
            if x.shape != y.shape:
                differ.append(k)
                continue
            worst = max(worst, float(np.abs(x.astype(np.float64) - y.astype(np.float64)).max(initial=0.0)))
    return {"identical": not differ and worst <= 1e-4, "files_differing": differ[:20],
            "arrays_max_abs_diff": worst}


def vidfast_cmd(inputs: Path, out: Path, *sets: str) -> list[str]:
    cmd = [sys.executable, "-m", "vidfast.cli", "run", str(inputs), "-o", str(out), "--recipe", "grounding",
           "--preset", "embedded", "--no-progress"]
    for s in sets:
        cmd += ["--set", s]
    return cmd


def children_cpu() -> float:
    """CPU seconds of the finished child processes (and the descendants they waited for)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_timed(cmd: list[str], env: dict[str, str] | None = None, cpu: int | None = None) -> dict[str, Any]:
    before = load()
    cpu0 = children_cpu()
    t0 = time.perf_counter()
    preexec = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, preexec_fn=preexec)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return {"wall_s": round(wall, 3), "cpu_s": round(children_cpu() - cpu0, 2), "load_before": before,
            "load_after": load()}


def report_of(out: Path, name: str = "report.json") -> dict[str, Any]:
    return json.loads((out / name).read_text())


# ---------------------------------------------------------------------------------------------- part 1

def copies_dir(root: Path, videos: dict[str, Path], copies: int) -> Path:
    d = root / "inputs"
    for k in range(copies):
        for name, path in videos.items():
            link = d / f"c{k}" / f"{name}{path.suffix}"
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path)
    return d


class Cluster:
    """A 2-CPU local Ray cluster kept up by a helper process (which alone starts and stops it)."""

    def __enter__(self) -> str:
        self.proc = subprocess.Popen([sys.executable, "-c", CLUSTER_HELPER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=CLUSTER_ENV)
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            raise RuntimeError("the Ray cluster helper did not start")
        return self.address

    def __exit__(self, *exc: object) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=120)


def bench_executors(tmp: Path, copies: int, repeat: int) -> dict[str, Any]:
    videos = find_videos(quick=False, long=False)
    inputs = copies_dir(tmp, videos, copies)
    n = len(videos) * copies
    runs: dict[str, list[dict[str, Any]]] = {"local": [], "ray": [], "ray_cluster": []}
    identical: dict[str, Any] = {}
    reference: dict[str, bytes] | None = None
    with Cluster() as address:
        for r in range(repeat):
            for kind in runs:
                out = tmp / f"{kind}{r}"
                sets = {"local": ["runtime.executor=local"],
                        "ray": ["runtime.executor=ray", "runtime.ray.num_cpus=2"],
                        "ray_cluster": ["runtime.executor=ray", f"runtime.ray.address={address}"]}[kind]
                m = run_timed(vidfast_cmd(inputs, out, *sets), env=CLUSTER_ENV if kind == "ray_cluster" else None)
                rep = report_of(out)
                m.update({"run_s": rep["wall_s"], "videos_done": rep["videos"]["done"],
                          "videos_failed": rep["videos"]["failed"]})
                runs[kind].append(m)
                print(f"  {kind:12s} repeat {r}: wall {m['wall_s']:7.2f} s  run {m['run_s']:7.2f} s  "
                      f"load {m['load_before']} -> {m['load_after']}", flush=True)
                files = outputs(out)
                if reference is None:
                    reference = files
                same = same_outputs(reference, files)
                if kind not in identical or not same["identical"]:
                    identical[kind] = same
                if r + 1 < repeat or kind != "local":
                    shutil.rmtree(out, ignore_errors=True)
    best = {k: min(v, key=lambda m: m["wall_s"]) for k, v in runs.items()}
    duration = sum(float(_duration(p)) for p in videos.values()) * copies
    return {
        "videos": {k: str(v) for k, v in videos.items()}, "copies": copies, "inputs": n,
        "video_seconds": round(duration, 1), "runs": runs, "best": best,
        "ray_vs_local_wall": round(best["ray"]["wall_s"] / best["local"]["wall_s"], 3),
        "ray_cluster_vs_local_wall": round(best["ray_cluster"]["wall_s"] / best["local"]["wall_s"], 3),
        "ray_vs_local_run": round(best["ray"]["run_s"] / best["local"]["run_s"], 3),
        "ray_cluster_vs_local_run": round(best["ray_cluster"]["run_s"] / best["local"]["run_s"], 3),
        "outputs_identical_to_local": identical,
        "target": "ray / local wall <= 1.3",
    }


def _duration(path: Path) -> float:
    import av

    with av.open(str(path)) as c:
        return c.duration / av.time_base if c.duration else 0.0


# ---------------------------------------------------------------------------------------------- part 2

def bench_shards(tmp: Path, n_videos: int, repeat: int, pin: bool = True) -> dict[str, Any]:
    clip = synthetic("synth_640x360_20s")
    d = tmp / "shard_inputs"
    d.mkdir()
    for k in range(n_videos):
        (d / f"v{k:03d}.mp4").symlink_to(clip)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    one_core = ["runtime.workers=1", "decode.threads=1"]
    singles, pairs = [], []
    identical = True
    for r in range(repeat):
        out1 = tmp / f"n1_{r}"
        m1 = run_timed(vidfast_cmd(d, out1, "runtime.shard=0/1", *one_core), env=env, cpu=0 if pin else None)
        t0 = time.perf_counter()
        merge_cmd = [sys.executable, "-m", "vidfast.cli", "merge", str(out1)]
        subprocess.run(merge_cmd, check=True, capture_output=True)
        m1["merge_s"] = round(time.perf_counter() - t0, 3)
        singles.append(m1)
        out2 = tmp / f"n2_{r}"
        before = load()
        cpu0 = children_cpu()
        t0 = time.perf_counter()
        procs = [subprocess.Popen(vidfast_cmd(d, out2, f"runtime.shard={i}/2", *one_core), env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  preexec_fn=(lambda c=i: os.sched_setaffinity(0, {c})) if pin else None)
                 for i in range(2)]
        walls = []
        for p in procs:
            _, err = p.communicate()
            walls.append(round(time.perf_counter() - t0, 3))
            if p.returncode:
                raise RuntimeError(f"shard failed: {err[-3000:]}")
        wall2 = max(walls)
        cpu2 = round(children_cpu() - cpu0, 2)
        after = load()
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vidfast.cli", "merge", str(out2)], check=True, capture_output=True)
        merge2 = round(time.perf_counter() - t0, 3)
        shard_videos = [report_of(out2, f"report.{i}-of-2.json")["videos"]["total"] for i in range(2)]
        pairs.append({"wall_s": wall2, "cpu_s": cpu2, "process_wall_s": walls, "shard_videos": shard_videos,
                      "merge_s": merge2,
                      "load_before": before, "load_after": after})
        same = same_outputs(outputs(out1), outputs(out2))
        if identical is True or not same["identical"]:
            identical = same
        print(f"  shards repeat {r}: n=1 {m1['wall_s']:.2f} s cpu {m1['cpu_s']} s, n=2 {wall2:.2f} s cpu {cpu2} s "
              f"({walls}, videos {shard_videos}); "
              f"scaling {m1['wall_s'] / wall2:.2f}; load {before} -> {after}", flush=True)
        shutil.rmtree(out1, ignore_errors=True)
        shutil.rmtree(out2, ignore_errors=True)
    b1, b2 = min(s["wall_s"] for s in singles), min(p["wall_s"] for p in pairs)
    c1, c2 = min(s["cpu_s"] for s in singles), min(p["cpu_s"] for p in pairs)
    return {"clip": str(clip), "videos": n_videos, "pinned": pin, "n1": singles, "n2": pairs,
            "scaling_n2": round(b1 / b2, 3), "cpu_s_per_video": {"n1": round(c1 / n_videos, 3),
                                                                 "n2": round(c2 / n_videos, 3)}, "throughput_videos_per_s": {"n1": round(n_videos / b1, 3),
                                                                        "n2": round(n_videos / b2, 3)},
            "merged_outputs_identical_to_n1": identical, "target": "scaling >= 0.9 * n = 1.8"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2, help="copies of each grounding bench clip (part 1)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each competitor (best is kept)")
    parser.add_argument("--shard-videos", type=int, default=16, help="independent videos for part 2")
    parser.add_argument("--quick", action="store_true", help="copies=1, repeat=1, 8 shard videos")
    parser.add_argument("--only", choices=("executors", "shards"), help="run one part")
    parser.add_argument("--no-pin", action="store_true",
                        help="part 2 without pinning each process to a core (fairer when other jobs load the machine)")
    parser.add_argument("--out", default="executors", help="result name under bench/results/")
    args = parser.parse_args()
    if args.quick:
        args.copies, args.repeat, args.shard_videos = 1, 1, 8
    payload: dict[str, Any] = {"command": " ".join(["python", "bench/bench_executors.py", *sys.argv[1:]]),
                               "load_at_start": load()}
    with tempfile.TemporaryDirectory(prefix="bench_executors_") as tmp:
        if args.only in (None, "executors"):
            print("executors: grounding, embedded preset", flush=True)
            payload["executors"] = bench_executors(Path(tmp) / "ex", args.copies, args.repeat)
            e = payload["executors"]
            print(f"ray/local wall {e['ray_vs_local_wall']} (running cluster {e['ray_cluster_vs_local_wall']}); "
                  f"run part {e['ray_vs_local_run']} / {e['ray_cluster_vs_local_run']}; identical "
                  f"{ {k: v['identical'] for k, v in e['outputs_identical_to_local'].items()} }", flush=True)
        if args.only in (None, "shards"):
            print("shards: independent videos, one core per process", flush=True)
            (Path(tmp) / "sh").mkdir()
            payload["shards"] = bench_shards(Path(tmp) / "sh", args.shard_videos, args.repeat, pin=not args.no_pin)
            s = payload["shards"]
            print(f"shard scaling n=2: {s['scaling_n2']} ({s['throughput_videos_per_s']}); merged identical "
                  f"{s['merged_outputs_identical_to_n1']['identical']} (arrays max diff "
                  f"{s['merged_outputs_identical_to_n1']['arrays_max_abs_diff']:.2g})", flush=True)
    payload["load_at_end"] = load()
    print(write_result(args.out, payload))


if __name__ == "__main__":
    main()
