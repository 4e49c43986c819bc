"""Frame ops: vidfast native kernels vs the numpy reference vs OpenCV, on realistic batches.

Each case checks that the three outputs agree (native == reference exactly, native within the
stated tolerance of OpenCV) before timing. Native and OpenCV are timed alternately, best of
``--repeat`` rounds (fair on a shared, noisy machine). OpenCV runs frame by frame with its own
threads, as a user would call it; the numpy reference is timed on the first ``--ref-frames``
frames and scaled to the batch (it is the fallback, not a contender).

    python bench/bench_ops.py [--batch 32] [--repeat 9] [--ref-frames 4] [--cases resize_bilinear_360p_to_256w,...]

Writes bench/results/ops.json. ``speedup_vs_opencv`` = opencv ms / native ms (>1: native faster).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import timed, write_result
from vidfast import _native, ops

CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


@dataclass
class Case:
    """One op on one batch: the three competitors take the same input tuple."""

    name: str
    inputs: Callable[[int], tuple]  # batch size -> input tuple
    native: Callable[..., Any]
    reference: Callable[..., Any]
    opencv: Callable[..., Any]
    tolerance: float  # max |native - opencv|


def _frames(n: int, h: int, w: int) -> np.ndarray:
    """Smooth content with texture and noise (random noise alone would flatter nobody)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) % 256], axis=-1)
    noise = rng.integers(0, 24, (n, h, w, 3))
    return np.clip(base[None] + noise, 0, 255).astype(np.uint8)


def _yuv(n: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    packed = [cv2.cvtColor(f, cv2.COLOR_RGB2YUV_I420) for f in _frames(n, h, w)]
    planes = [ops.split_yuv420p(p) for p in packed]
    return tuple(np.ascontiguousarray(np.stack([p[i] for p in planes])) for i in range(3))


def _cv_each(fn: Callable[[np.ndarray], np.ndarray], frames: np.ndarray) -> np.ndarray:
    return np.stack([fn(f) for f in frames])


def _i420(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> list[np.ndarray]:
    h, w = y.shape[1:]
    return [
        np.concatenate([y[i].reshape(-1), u[i].reshape(-1), v[i].reshape(-1)]).reshape(h * 3 // 2, w)
        for i in range(len(y))
    ]


def _cv_normalize(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    scale = (1.0 / (255.0 * np.asarray(CLIP_STD))).astype(np.float32)
    bias = (-np.asarray(CLIP_MEAN) / np.asarray(CLIP_STD)).astype(np.float32)
    resized = _cv_each(lambda f: cv2.resize(f, size[::-1], interpolation=cv2.INTER_LINEAR), frames)
    return np.ascontiguousarray((resized.astype(np.float32) * scale + bias).transpose(0, 3, 1, 2))


def cases() -> list[Case]:
    """The benchmark matrix: decode-path and model-input sizes."""
    s256, s224 = (144, 256), (224, 224)
    yuv_cv = lambda y, u, v, size=None: np.stack(
        [
            cv2.cvtColor(p, cv2.COLOR_YUV2RGB_I420)
            if size is None
            else cv2.resize(
                cv2.cvtColor(p, cv2.COLOR_YUV2RGB_I420), size[::-1], interpolation=cv2.INTER_LINEAR
            )
            for p in _i420(y, u, v)
        ]
    )
    return [
        Case(
            "resize_bilinear_360p_to_256w",
            lambda n: (_frames(n, 360, 640),),
            lambda x: ops.resize(x, s256, backend="native"),
            lambda x: ops.resize(x, s256, backend="reference"),
            lambda x: _cv_each(lambda f: cv2.resize(f, (256, 144), interpolation=cv2.INTER_LINEAR), x),
            1,
        ),
        Case(
            "resize_area_360p_to_256w",
            lambda n: (_frames(n, 360, 640),),
            lambda x: ops.resize(x, s256, "area", backend="native"),
            lambda x: ops.resize(x, s256, "area", backend="reference"),
            lambda x: _cv_each(lambda f: cv2.resize(f, (256, 144), interpolation=cv2.INTER_AREA), x),
            1,
        ),
        Case(
            "rgb2hsv_360p",
            lambda n: (_frames(n, 360, 640),),
            lambda x: ops.convert_color(x, "rgb2hsv", backend="native"),
            lambda x: ops.convert_color(x, "rgb2hsv", backend="reference"),
            lambda x: _cv_each(lambda f: cv2.cvtColor(f, cv2.COLOR_RGB2HSV), x),
            0,
        ),
        Case(
            "rgb2gray_360p",
            lambda n: (_frames(n, 360, 640),),
            lambda x: ops.convert_color(x, "rgb2gray", backend="native"),
            lambda x: ops.convert_color(x, "rgb2gray", backend="reference"),
            lambda x: _cv_each(lambda f: cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)[..., None], x),
            0,
        ),
        Case(
            "yuv420p_to_rgb_720p",
            lambda n: _yuv(n, 720, 1280),
            lambda y, u, v: ops.yuv420p_to_rgb(y, u, v, backend="native"),
            lambda y, u, v: ops.yuv420p_to_rgb(y, u, v, backend="reference"),
            yuv_cv,
            1,
        ),
        Case(
            "yuv420p_to_rgb_720p_to_256w",
            lambda n: _yuv(n, 720, 1280),
            lambda y, u, v: ops.yuv420p_to_rgb(y, u, v, s256, backend="native"),
            lambda y, u, v: ops.yuv420p_to_rgb(y, u, v, s256, backend="reference"),
            lambda y, u, v: yuv_cv(y, u, v, s256),
            2,
        ),
        Case(
            "normalize_720p_to_224",
            lambda n: (_frames(n, 720, 1280),),
            lambda x: ops.normalize_to_chw(x, s224, CLIP_MEAN, CLIP_STD, backend="native"),
            lambda x: ops.normalize_to_chw(x, s224, CLIP_MEAN, CLIP_STD, backend="reference"),
            lambda x: _cv_normalize(x, s224),
            1.01 / 255 / min(CLIP_STD),
        ),
    ]


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())


def _race(fns: list[Callable[[], Any]], rounds: int) -> list[float]:
    """Best time of each function, calling them in turn each round (fair on a shared, noisy machine)."""
    best = [float("inf")] * len(fns)
    for fn in fns:
        fn()  # warm-up
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def run_case(case: Case, batch: int, repeat: int, ref_frames: int) -> dict[str, Any]:
    """Check agreement, then time native, OpenCV and (on a slice, scaled) the numpy reference."""
    inputs = case.inputs(batch)
    sub = tuple(a[:ref_frames] for a in inputs)
    native_out, cv_out = case.native(*inputs), case.opencv(*inputs)
    vs_cv = _max_diff(native_out, cv_out)
    vs_ref = _max_diff(native_out[:ref_frames], case.reference(*sub))
    if vs_cv > case.tolerance or vs_ref > 1e-5 * (native_out.dtype == np.float32):
        raise AssertionError(f"{case.name}: outputs disagree (vs opencv {vs_cv}, vs reference {vs_ref})")
    t_native, t_cv = _race([lambda: case.native(*inputs), lambda: case.opencv(*inputs)], repeat)
    t_ref, _ = timed(lambda: case.reference(*sub), repeat=1)
    t_ref *= batch / ref_frames
    ms = {"native": t_native * 1e3, "opencv": t_cv * 1e3, "numpy_reference": t_ref * 1e3}
    return {
        "batch": batch,
        "input_shapes": [list(a.shape) for a in inputs],
        "max_abs_diff": {"vs_opencv": vs_cv, "vs_reference": vs_ref, "tolerance_vs_opencv": case.tolerance},
        "ms_per_batch": {k: round(v, 3) for k, v in ms.items()},
        "frames_per_s": {k: round(batch / (v / 1e3), 1) for k, v in ms.items()},
        "speedup_vs_opencv": round(t_cv / t_native, 2),
        "speedup_vs_numpy": round(t_ref / t_native, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--ref-frames", type=int, default=4, help="frames the numpy reference is timed on")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    args = parser.parse_args(argv)
    _native.require_native("bench_ops")
    wanted = set(filter(None, args.cases.split(",")))
    results = {}
    for case in cases():
        if wanted and case.name not in wanted:
            continue
        results[case.name] = r = run_case(case, args.batch, args.repeat, min(args.ref_frames, args.batch))
        print(
            f"{case.name:32s} native {r['ms_per_batch']['native']:8.2f} ms  opencv "
            f"{r['ms_per_batch']['opencv']:8.2f} ms  numpy {r['ms_per_batch']['numpy_reference']:9.1f} ms  "
            f"x{r['speedup_vs_opencv']:.2f} vs opencv  x{r['speedup_vs_numpy']:.0f} vs numpy",
            flush=True,
        )
    payload = {"opencv_threads": cv2.getNumThreads(), "native_build": _native.build_info(), "cases": results}
    print("wrote", write_result("ops", payload))


if __name__ == "__main__":
    main()
