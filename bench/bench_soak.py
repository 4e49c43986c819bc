"""Soak: 1,000 short synthetic videos (mixed codecs, ~5% corrupt) through probe and grounding.

The videos (1-2 s at 20 fps, 96x54 to 160x90, h264 mp4 / vp9 webm / mjpeg avi in turn; every 20th one broken:
truncated to half, zero bytes, or random bytes, in turn) are made once and cached under
``$VIDFAST_BENCH_TMP/soak`` (default /tmp/vidfast-soak). Each recipe runs in a child process
(``vidfast run``) whose whole process tree's RSS is sampled every 0.2 s (report.html is written
afterwards by ``vidfast report`` in its own process, measured apart). The check: every video ends
up in the manifest exactly once, done + failed = all, every corrupt one failed with a reason and
every good one is done; peak RSS, and RSS early vs late in the run (no growth with the number of
videos processed).

    python -m bench.bench_soak [--videos 1000] [--recipes probe,grounding]

Writes bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import run_with_peak_rss, write_result

TMP = Path(os.environ.get("VIDFAST_BENCH_TMP", "/tmp/vidfast-soak"))
KINDS = [("h264", ".mp4"), ("vp9", ".webm"), ("mjpeg", ".avi")]
BROKEN = ["truncated", "empty", "garbage"]


def make_videos(n: int) -> tuple[Path, dict[str, str]]:
    """The soak's input directory and, by file name, which are corrupt and how."""
    from vidfast.synth import SynthOptions, generate

    d = TMP / "videos"
    d.mkdir(parents=True, exist_ok=True)
    corrupt: dict[str, str] = {}
    t0 = time.perf_counter()
    for i in range(n):
        codec, ext = KINDS[i % 3]
        path = d / f"s{i:04d}_{codec}{ext}"
        broken = BROKEN[(i // 60) % 3] if i % 20 == 7 else None  # every kind meets every codec
        if broken:
            corrupt[path.name] = broken
        if path.exists():
            continue
        w, h = [(96, 54), (128, 72), (160, 90)][i % 3]
        tmp = d / f".tmp{ext}"
        generate(tmp, SynthOptions(duration=1.0 + (i % 5) * 0.25, fps=20.0, size=(w, h), codec=codec,
                                   scenes=2, fade=False, seed=i))
        data = tmp.read_bytes()
        if broken == "truncated":
            data = data[: len(data) // 2]
        elif broken == "empty":
            data = b""
        elif broken == "garbage":
            data = os.urandom(len(data))
        path.write_bytes(data)
        Path(str(tmp) + ".json").unlink(missing_ok=True)
        tmp.unlink()
        if i % 100 == 99:
            print(f"  made {i + 1} videos ({time.perf_counter() - t0:.0f} s)", flush=True)
    return d, corrupt


def soak(recipe: str, inputs: Path, corrupt: dict[str, str], n: int) -> dict[str, Any]:
    out = TMP / f"run_{recipe}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "vidfast.cli", "run", str(inputs), "-o", str(out), "--recipe", recipe,
           "--no-progress"] + (["--preset", "embedded"] if recipe != "probe" else [])
    res = run_with_peak_rss(cmd, {**os.environ, "VIDFAST_REPORT_HTML": "0"}, interval_s=0.2)
    if res["returncode"] != 0:
        raise SystemExit(f"{recipe} run failed: {res['stderr_tail']}")
    # the report (matplotlib) separately, so the run's own memory is measured alone
    rep = run_with_peak_rss([sys.executable, "-m", "vidfast.cli", "report", str(out)], {**os.environ})
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    names = Counter(Path(r["video"]).name for r in rows)
    status = {Path(r["video"]).name: r for r in rows}
    good_failed = sorted(k for k, r in status.items() if k not in corrupt and r["status"] != "done")
    corrupt_done = sorted(k for k in corrupt if status.get(k, {}).get("status") == "done")
    timeline = res["rss_timeline_mib"]
    tenth = max(1, len(timeline) // 10)
    report = json.loads((out / "report.json").read_text())
    return {
        "videos": n,
        "manifest_rows": len(rows),
        "listed_twice": sum(1 for c in names.values() if c > 1),
        "lost": n - len(names),
        "done": report["videos"]["done"],
        "failed": report["videos"]["failed"],
        "failures_by_reason": report["failures_by_reason"],
        "good_videos_failed": good_failed[:20],
        "corrupt_videos_done": corrupt_done,
        "wall_s": res["wall_s"],
        "videos_per_s": round(n / res["wall_s"], 2),
        "peak_rss_mib": res["peak_rss_mib"],
        "max_rss_first_10pct_mib": max(v for _, v in timeline[:tenth]),
        "max_rss_last_10pct_mib": max(v for _, v in timeline[-tenth:]),
        "rss_timeline_mib": timeline,
        "max_rss_middle_10pct_mib": max(v for _, v in timeline[len(timeline) // 2 - tenth // 2:][:tenth]),
        "report_command_s": rep["wall_s"],
        "report_command_peak_rss_mib": rep["peak_rss_mib"],
        "report_html": (out / "report.html").exists(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--recipes", default="probe,grounding")
    args = parser.parse_args()
    inputs, corrupt = make_videos(args.videos)
    print(f"{args.videos} videos in {inputs}, {len(corrupt)} corrupt ({dict(Counter(corrupt.values()))})", flush=True)
    results = {}
    for recipe in args.recipes.split(","):
        r = soak(recipe, inputs, corrupt, args.videos)
        results[recipe] = r
        print(f"{recipe}: {r['done']} done + {r['failed']} failed = {r['done'] + r['failed']} of {r['videos']}, "
              f"{r['lost']} lost, peak RSS {r['peak_rss_mib']} MiB (first 10% {r['max_rss_first_10pct_mib']}, "
              f"last 10% {r['max_rss_last_10pct_mib']}), {r['wall_s']} s", flush=True)
    payload = {"command": f"python -m bench.bench_soak --videos {args.videos} --recipes {args.recipes}",
               "corrupt": dict(Counter(corrupt.values())), "codecs": [k for k, _ in KINDS], "recipes": results}
    print("wrote", write_result("soak", payload))


if __name__ == "__main__":
    main()
