"""Write a long H.264 video quickly (cheap content, x264 ultrafast, large GOP) for the memory and
sampling benchmarks, plus a ``<out>.json`` sidecar with its hard cuts.

Frames are built directly as YUV 4:2:0 planes (no RGB conversion): each scene has its own flat
colour, a moving bright bar and a little precomputed noise, so cut detectors see real cuts and the
encoder does real work. Prints how long it took.

    python bench/make_long_video.py bench/results/tmp/long_720p_1h.mp4 --duration 3600
"""

from __future__ import annotations

import argparse
import json
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# (Y, U, V) per scene
_SCENE_COLOURS = (
    (80, 90, 200), (160, 60, 100), (120, 200, 60), (200, 140, 170), (60, 110, 120), (230, 80, 140)
)


def _scene_starts(n_frames: int, fps: float, rng: np.random.Generator) -> list[int]:
    """Scene start frames: random lengths of 2 to 12 seconds."""
    starts, at = [], 0
    while at < n_frames:
        starts.append(at)
        at += int(rng.uniform(2.0, 12.0) * fps)
    return starts


def _noise_bank(width: int, height: int, level: float, rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.normal(0, level, (height, width)).astype(np.int16) for _ in range(5)]


def _frame(k: int, scene: int, width: int, height: int, noise: list[np.ndarray]) -> np.ndarray:
    """A planar yuv420p frame as a [H*3/2, W] uint8 array."""
    y_level, u_level, v_level = _SCENE_COLOURS[scene % len(_SCENE_COLOURS)]
    planes = np.empty((height * 3 // 2, width), np.uint8)
    y = planes[:height]
    np.add(noise[k % len(noise)], y_level, out=y, casting="unsafe")
    bar = (k * 7) % width
    y[:, bar : bar + width // 16] = 235
    planes[height : height + height // 4] = u_level
    planes[height + height // 4 :] = v_level
    return planes


def make_long_video(
    out: Path, duration: float, fps: float, width: int, height: int, gop: int, crf: int, seed: int
) -> dict:
    """Encode the video and its sidecar; returns the sidecar dict (with the seconds it took)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = int(round(duration * fps))
    starts = _scene_starts(n, fps, rng)
    noise = _noise_bank(width, height, 3.0, rng)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.options = {"preset": "ultrafast", "crf": str(crf)}
        scene = 0
        for k in range(n):
            scene += scene + 1 < len(starts) and k >= starts[scene + 1]
            frame = av.VideoFrame.from_ndarray(_frame(k, scene, width, height, noise), format="yuv420p")
            frame.pts = k
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    tmp.replace(out)
    doc = {"video": out.name, "fps": fps, "frame_count": n, "duration": n / fps, "size": [width, height],
           "codec": "h264", "gop": gop, "cuts": starts[1:], "seconds_to_make": time.perf_counter() - t0}
    Path(str(out) + ".json").write_text(json.dumps(doc, indent=2) + "\n")
    return doc


def make_real_loop(src: Path, out: Path, width: int, height: int, loops: int, preset: str = "medium") -> dict:
    """A long clip of real footage: ``src`` scaled to ``width x height`` and encoded once (x264
    ``preset``, B-frames, the encoder's default GOP), then its packets written ``loops`` times with
    shifted timestamps (each loop starts on a keyframe, so every frame decodes as encoded)."""
    t0 = time.perf_counter()
    once = out.with_name(f".{out.stem}.once.mp4")
    with av.open(str(src)) as inp, av.open(str(once), "w") as enc:
        sin = inp.streams.video[0]
        rate = sin.average_rate or Fraction(25)
        sout = enc.add_stream("libx264", rate=rate)
        sout.width, sout.height, sout.pix_fmt = width, height, "yuv420p"
        sout.options = {"preset": preset, "crf": "23"}
        for i, frame in enumerate(inp.decode(sin)):
            small = frame.reformat(width, height, "yuv420p")
            small.pts, small.time_base = i, Fraction(1) / Fraction(rate)
            enc.mux(sout.encode(small))
        enc.mux(sout.encode())
    with av.open(str(once)) as one:
        sin = one.streams.video[0]
        packets = [(bytes(p), p.pts, p.dts, p.duration, p.is_keyframe) for p in one.demux(sin) if p.dts is not None]
        span = max(pts + (dur or 0) for _, pts, _, dur, _ in packets) - min(pts for _, pts, _, _, _ in packets)
        with av.open(str(out), "w") as dst:
            sout = dst.add_stream_from_template(sin)
            for k in range(loops):
                for data, pts, dts, dur, key in packets:
                    packet = av.Packet(data)
                    packet.pts, packet.dts, packet.duration = pts + k * span, dts + k * span, dur
                    packet.is_keyframe = key
                    packet.stream = sout
                    packet.time_base = sin.time_base
                    dst.mux(packet)
    once.unlink()
    doc = {"source": str(src), "loops": loops, "size": [width, height], "seconds_to_make": time.perf_counter() - t0}
    Path(str(out) + ".json").write_text(json.dumps(doc, indent=2) + "\n")
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--duration", type=float, default=3600.0, help="seconds (default: one hour)")
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT")
    parser.add_argument("--gop", type=int, default=250)
    parser.add_argument("--crf", type=int, default=28)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    doc = make_long_video(args.out, args.duration, args.fps, width, height, args.gop, args.crf, args.seed)
    size_mb = args.out.stat().st_size / 2**20
    speed = doc["frame_count"] / doc["seconds_to_make"]
    print(f"{args.out}: {doc['frame_count']} frames ({doc['duration'] / 60:.1f} min, {width}x{height}), "
          f"{len(doc['cuts'])} cuts, {size_mb:.1f} MiB, made in {doc['seconds_to_make']:.1f} s "
          f"({speed:.0f} frames/s)")


if __name__ == "__main__":
    main()
