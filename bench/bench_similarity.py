"""Grounding similarity core: native kernels vs the numpy reference, and the chain vs its GEMM.

For N scenes (3 sampled frames each, D = 768) the chain is: segment mean of frame embeddings ->
cosine matrix (one GEMM) -> consecutive merge scan -> max-pool to the merged scenes -> span scans
of one caption per merged scene. Every step is checked native == reference (scans and maxima
exactly, means within 1e-5) before timing. The GEMM alone is the yardstick: the target is the
whole chain within 3x of it (on the GPU when one is present; on the CPU the ratio is reported too).

    python bench/bench_similarity.py [--sizes 1000,10000] [--repeat 3]

Writes bench/results/similarity.json. ``speedup`` = reference ms / native ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import timed, write_result
from vidfast import _native
from vidfast.grounding import cosine_matrix, kernels, reference
from vidfast.grounding.reference import SpanParams

DIM, FRAMES_PER_SCENE = 768, 3


def make_inputs(n: int, seed: int = 0) -> dict[str, Any]:
    """Frame embeddings where runs of 1-4 consecutive scenes share content (so merges happen)."""
    rng = np.random.default_rng(seed)
    run_ids = np.cumsum(rng.random(n) < 0.45)
    bases = rng.normal(size=(int(run_ids[-1]) + 1, DIM)).astype(np.float32)
    scene = bases[run_ids] + 0.25 * rng.normal(size=(n, DIM)).astype(np.float32)
    frames = np.repeat(scene, FRAMES_PER_SCENE, axis=0) + 0.1 * rng.normal(size=(n * FRAMES_PER_SCENE, DIM))
    lengths = rng.choice([0.6, 1.0, 2.0, 4.0], n)
    starts = np.concatenate(([0.0], np.cumsum(lengths)[:-1]))
    return {
        "frames": frames.astype(np.float32),
        "offsets": np.arange(0, n * FRAMES_PER_SCENE + 1, FRAMES_PER_SCENE, dtype=np.int64),
        "starts": starts,
        "ends": starts + lengths,
    }


def native_chain(x: dict[str, Any]) -> dict[str, Any]:
    """Run the chain once with the native kernels, returning every intermediate."""
    emb = kernels.segment_mean(x["frames"], x["offsets"], backend="native")
    sim = cosine_matrix(emb)
    off = kernels.merge_scan(sim, 0.85, False, backend="native")
    pooled = kernels.segment_max_pool(sim, off, backend="native")
    return {"emb": emb, "sim": sim, "offsets": off, "pooled": pooled, "m_starts": x["starts"][off[:-1]],
            "m_ends": x["ends"][off[1:] - 1]}  # fmt: skip


def check_equal(name: str, nat: Any, ref: Any) -> None:
    """Native output == reference output (exact, except the float sums of segment_mean)."""
    if name == "span_scan":
        for field in ("status", "scenes", "secs"):
            np.testing.assert_array_equal(getattr(nat, field), getattr(ref, field))
    elif name == "segment_mean":
        np.testing.assert_allclose(nat, ref, rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_array_equal(nat, ref)


def steps(x: dict[str, Any], c: dict[str, Any], backend: str) -> dict[str, Callable[[], Any]]:
    """The chain's steps as thunks on fixed inputs (from ``c``, the native run)."""
    params, horizon = SpanParams(), float(c["m_ends"][-1]) + 1
    return {
        "segment_mean": lambda: kernels.segment_mean(x["frames"], x["offsets"], backend=backend),
        "merge_scan_last": lambda: kernels.merge_scan(c["sim"], 0.85, False, backend=backend),
        "merge_scan_union": lambda: kernels.merge_scan(c["sim"], 0.85, True, backend=backend),
        "segment_max_pool": lambda: kernels.segment_max_pool(c["sim"], c["offsets"], backend=backend),
        "span_scan": lambda: kernels.span_scan(
            c["pooled"], c["m_starts"], c["m_ends"], c["m_starts"], c["m_ends"], params, horizon, backend
        ),
    }


def bench_cpu(n: int, repeat: int) -> dict[str, Any]:
    x = make_inputs(n)
    nat = native_chain(x)
    rep = 1 if n > 5000 else repeat
    gemm_s, _ = timed(lambda: cosine_matrix(nat["emb"]), repeat=rep, warmup=0 if n > 5000 else 1)
    out: dict[str, Any] = {"scenes": n, "merged_scenes": int(nat["offsets"].size - 1), "frames": n * FRAMES_PER_SCENE,
                           "dim": DIM, "gemm_ms": round(gemm_s * 1e3, 3), "steps": {}}  # fmt: skip
    native_steps, ref_steps = steps(x, nat, "native"), steps(x, nat, "reference")
    for name in native_steps:
        t_nat, got = timed(native_steps[name], repeat=repeat)
        t_ref, want = timed(ref_steps[name], repeat=1, warmup=0)
        check_equal(name, got, want)
        out["steps"][name] = {"native_ms": round(t_nat * 1e3, 3), "reference_ms": round(t_ref * 1e3, 3),
                              "speedup": round(t_ref / t_nat, 1)}  # fmt: skip
    chain = ("segment_mean", "merge_scan_last", "segment_max_pool", "span_scan")
    for kind in ("native", "reference"):
        rest = sum(out["steps"][s][f"{kind}_ms"] for s in chain)
        out[f"chain_{kind}_ms"] = round(gemm_s * 1e3 + rest, 3)
        out[f"chain_{kind}_vs_gemm"] = round((gemm_s * 1e3 + rest) / (gemm_s * 1e3), 2)
    return out


def _gpu_timed(fn: Callable[[], Any], repeat: int) -> float:
    import torch

    fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_gpu(n: int, repeat: int) -> dict[str, Any]:
    """The chain on torch CUDA tensors with the CUDA kernels, checked against the host reference."""
    import torch

    x = make_inputs(n)
    frames = torch.from_numpy(x["frames"]).cuda()
    emb = kernels.segment_mean(frames, x["offsets"], backend="cuda")
    sim = cosine_matrix(emb)
    off = kernels.merge_scan(sim, 0.85, False, backend="cuda")
    pooled = kernels.segment_max_pool(sim, off, backend="cuda")
    host_sim = sim.cpu().numpy()
    np.testing.assert_array_equal(off, reference.merge_scan(host_sim, 0.85, False))
    np.testing.assert_array_equal(pooled.cpu().numpy(), reference.segment_max_pool(host_sim, off))
    m_starts, m_ends = x["starts"][off[:-1]], x["ends"][off[1:] - 1]
    params, horizon = SpanParams(), float(m_ends[-1]) + 1
    timings = {
        "gemm": lambda: cosine_matrix(emb),
        "segment_mean": lambda: kernels.segment_mean(frames, x["offsets"], backend="cuda"),
        "merge_scan_last": lambda: kernels.merge_scan(sim, 0.85, False, backend="cuda"),
        "segment_max_pool": lambda: kernels.segment_max_pool(sim, off, backend="cuda"),
        "span_scan": lambda: kernels.span_scan(
            pooled, m_starts, m_ends, m_starts, m_ends, params, horizon, "cuda"
        ),
    }
    ms = {name: round(_gpu_timed(fn, repeat) * 1e3, 3) for name, fn in timings.items()}
    chain = sum(ms.values())
    return {
        "scenes": n,
        "steps_ms": ms,
        "chain_ms": round(chain, 3),
        "chain_vs_gemm": round(chain / ms["gemm"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    _native.require_native("bench_similarity")
    sizes = [int(s) for s in args.sizes.split(",")]
    payload: dict[str, Any] = {"native_build": _native.build_info(), "cpu": {}, "gpu": None}
    for n in sizes:
        payload["cpu"][str(n)] = bench_cpu(n, args.repeat)
        print(n, payload["cpu"][str(n)], flush=True)
    if _native.HAS_CUDA_KERNELS and _native.cuda_runtime_available():
        payload["gpu"] = {str(n): bench_gpu(n, args.repeat) for n in sizes}
        print(payload["gpu"], flush=True)
    print(write_result("similarity", payload))


if __name__ == "__main__":
    main()
