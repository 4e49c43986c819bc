"""Peak memory of a ``probe`` run over a one-hour 720p H.264 video (target: under 1 GB).

The run happens in a child process (``vidfast run ... --recipe probe``) so that its peak resident
set size is measured alone (``getrusage(RUSAGE_CHILDREN)``), with the full decode check on.

    python -m bench.bench_probe_memory [--duration 3600]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import RESULTS_DIR, write_result
from bench.make_long_video import make_long_video

LIMIT_MB = 1024


def ensure_video(duration: float) -> tuple[Path, dict]:
    path = RESULTS_DIR / "tmp" / f"long_720p_{int(duration)}s.mp4"
    sidecar = Path(str(path) + ".json")
    if path.exists() and sidecar.exists():
        return path, json.loads(sidecar.read_text())
    return path, make_long_video(path, duration, 25.0, 1280, 720, gop=250, crf=28, seed=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=3600.0)
    args = parser.parse_args()
    video, truth = ensure_video(args.duration)
    out = RESULTS_DIR / "tmp" / "probe_memory_run"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vidfast.cli", "run", str(video), "-o", str(out), "--recipe", "probe",
                    "--no-progress", "--strict"], check=True)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux reports KiB
    row = json.loads((out / "videos.jsonl").read_text().splitlines()[0])
    result = {
        "video": {"duration_s": truth["duration"], "size": truth["size"], "frames": truth["frame_count"],
                  "bytes": video.stat().st_size},
        "frames_decoded": row["decode"]["frames_decoded"],
        "wall_s": round(wall, 2),
        "decode_fps": round(row["decode"]["frames_decoded"] / wall, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "limit_mb": LIMIT_MB,
        "within_limit": peak_mb < LIMIT_MB,
    }
    print(json.dumps(result, indent=2))
    print("wrote", write_result("probe_memory", result))


if __name__ == "__main__":
    main()
