"""Micro-benchmark of the two scene-detection CPU kernels on real decoded frames.

    python bench/bench_scenes_kernels.py [video ...] [--calls 2000] [--repeats 5] [--module pkg._C]

Per video: ``yuv420p_small_bgr`` (yuv420p planes -> scenedetect's small BGR frame) per frame, and
``content_scores`` (no edges, batches of 32 with a previous frame) per frame, both single-threaded
CPU time (time.process_time; VIDFAST_NUM_THREADS/OMP_NUM_THREADS=1), best of ``--repeats``.
``--module`` times another build of the extension (e.g. a saved copy of the old one).
"""

from __future__ import annotations

import argparse
import importlib
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("VIDFAST_NUM_THREADS", "1")

import av
import numpy as np

from vidfast.scenes.convert import _BT601, _COEFFS, _planes
from vidfast.scenes.frames import downscale_factor, scaled_size

CONV_FRAMES = 64


def _decode(path: str, limit: int) -> list[av.VideoFrame]:
    with av.open(path) as c:
        return [f for _, f in zip(range(limit), c.decode(video=0))]


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def bench(path: str, mod, calls: int, repeats: int) -> None:
    frames = _decode(path, max(CONV_FRAMES, 34))
    f0 = frames[0]
    oh, ow = scaled_size(f0.width, f0.height, downscale_factor(f0.width, f0.height))
    planes = [_planes(f) for f in frames]
    coeffs = _COEFFS.get(int(f0.colorspace), _BT601)
    out = np.empty((oh, ow, 3), np.uint8)
    conv = mod.yuv420p_small_bgr
    nconv = min(len(planes), CONV_FRAMES)

    def run_conv() -> None:
        for i in range(calls):
            y, u, v = planes[i % nconv]
            conv(y, u, v, f0.width, f0.height, out, coeffs)

    small = np.empty((len(planes), oh, ow, 3), np.uint8)
    for i, (y, u, v) in enumerate(planes):
        conv(y, u, v, f0.width, f0.height, small[i], coeffs)
    batch = np.ascontiguousarray(small[1:33])
    prev = np.ascontiguousarray(small[0])
    nb = max(1, calls // 32)

    def run_scores() -> None:
        for _ in range(nb):
            mod.content_scores(batch, prev, False, 0)

    t_conv = _best(run_conv, repeats) / calls * 1e3
    t_sc = _best(run_scores, repeats) / (nb * 32) * 1e3
    print(f"{os.path.basename(path)} {f0.width}x{f0.height} -> {ow}x{oh}: small_bgr {t_conv:.4f} ms/frame, "
          f"content_scores {t_sc:.4f} ms/frame, total {t_conv + t_sc:.4f} ms/frame")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("videos", nargs="*")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--module", default="vidfast._C")
    ap.add_argument("--frames", type=int, default=64, help="distinct frames cycled through (64: mostly DRAM; 4: cache)")
    a = ap.parse_args()
    global CONV_FRAMES
    CONV_FRAMES = a.frames
    mod = importlib.import_module(a.module)
    print("module:", mod.__file__)
    for v in a.videos or ["/tmp/k/v640x360.mp4"]:
        bench(v, mod, a.calls, a.repeats)


if __name__ == "__main__":
    main()
