"""A one-hour 720p video through the grounding recipe (embedded models): peak memory and time.

The video is ``bench/make_long_video.py``'s (H.264, 1280x720, 25 fps, 90,000 frames, a cut every 2-12
s; made once and cached). ``vidfast run --recipe grounding --preset embedded`` runs in a child
process; the RSS of its whole process tree is sampled every 0.2 s (psutil).

    python -m bench.bench_long_video [--video PATH] [--duration 3600]

Writes bench/results/long_video.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from bench.common import run_with_peak_rss, write_result
from bench.make_long_video import make_long_video

TMP = Path(os.environ.get("VIDFAST_BENCH_TMP", "/tmp/vidfast-rel"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=3600.0)
    parser.add_argument("--video", type=Path, help="an existing video made by bench/make_long_video.py")
    args = parser.parse_args()
    video = args.video or TMP / f"long_720p_{int(args.duration)}s.mp4"
    if not video.exists():
        make_long_video(video, args.duration, 25.0, 1280, 720, gop=250, crf=28, seed=0)
    truth = json.loads(Path(str(video) + ".json").read_text())
    out = TMP / "long_video_run"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "vidfast.cli", "run", str(video), "-o", str(out), "--recipe", "grounding",
           "--preset", "embedded", "--no-progress", "--strict"]
    res = run_with_peak_rss(cmd, {**os.environ}, interval_s=0.2)
    if res["returncode"] != 0:
        raise SystemExit(f"run failed: {res['stderr_tail']}")
    report = json.loads((out / "report.json").read_text())
    rows = [json.loads(line) for line in (out / "grounding.jsonl").read_text().splitlines() if line.strip()]
    shots = report["stages"]["shots"]
    result = {
        "command": "python -m bench.bench_long_video",
        "video": {"duration_s": truth["duration"], "size": truth["size"], "frames": truth["frame_count"],
                  "true_cuts": len(truth["cuts"]), "bytes": video.stat().st_size},
        "wall_s": res["wall_s"],
        "video_s_per_wall_s": round(truth["duration"] / res["wall_s"], 2),
        "peak_rss_mib": res["peak_rss_mib"],
        "rss_timeline_mib": res["rss_timeline_mib"],
        "videos": report["videos"],
        "stages": {k: {"busy_s": v["busy_s"], "counters": v["counters"]} for k, v in report["stages"].items()},
        "scenes_detected": shots["counters"].get("scenes"),
        "grounding_rows": len(rows),
        "export": {k: v for k, v in report.get("export", {}).items() if k != "clip_sim"},
    }
    print(json.dumps({k: v for k, v in result.items() if k != "rss_timeline_mib"}, indent=2))
    print("wrote", write_result("long_video", result))


if __name__ == "__main__":
    main()
