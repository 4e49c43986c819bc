"""Backend dispatch for the grounding kernels: native C++ (``vidfast._C``), CUDA, or numpy reference.

Every function takes ``backend="auto"|"native"|"reference"|"cuda"`` like ``vidfast.ops``: ``auto``
runs the CUDA kernels on torch CUDA tensors, the native CPU kernels on host arrays, and the numpy
reference (``vidfast.grounding.reference``) when the extension is missing. Host inputs of other
float dtypes are computed in float32; CUDA kernels take float32 matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vidfast import _native
from vidfast.errors import BackendUnavailable
from vidfast.grounding import reference
from vidfast.grounding.reference import SpanParams, SpanScan
from vidfast.ops._dispatch import is_cuda_tensor, is_torch, pick_backend


def _kind(backend: str, x: Any, op: str) -> str:
    """The backend to run ``op`` on; a stale extension without the symbol falls back under ``auto``."""
    kind = pick_backend(backend, x, f"grounding.{op}")
    if kind == "native" and not hasattr(_native.require_native(op), op):
        if backend == "auto":
            return "reference"
        raise BackendUnavailable(
            f"grounding.{op}: vidfast._C was built before the similarity kernels; rebuild with "
            "`pip install --no-build-isolation -e .`"
        )
    return kind


def host_float(x: Any) -> np.ndarray:
    """``x`` as a C-contiguous float32/float64 numpy array (other dtypes become float32)."""
    if is_torch(x):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float32)
    return np.ascontiguousarray(x)


def _offsets(offsets: Any, total: int, op: str) -> np.ndarray:
    if is_torch(offsets):
        offsets = offsets.detach().cpu().numpy()
    return np.ascontiguousarray(reference.check_offsets(offsets, total, op))


def _cuda_module(op: str) -> Any:
    return _native.require_cuda_kernels(f"vidfast.grounding ({op})")


def _launch(fn: Any, device: Any, *args: Any) -> None:
    """Call a ``_C.*_cuda`` entry with ``device`` current, on its current torch stream."""
    import torch

    with torch.cuda.device(device):
        fn(*args, torch.cuda.current_stream(device).cuda_stream)


def segment_mean(x: Any, offsets: Any, backend: str = "auto") -> Any:
    """Means of consecutive row segments: ``x [F, D]``, ``offsets [M+1]`` -> ``[M, D]``."""
    kind = _kind(backend, x, "segment_mean")
    off = _offsets(offsets, int(x.shape[0]), "segment_mean")
    if kind == "cuda":
        import torch

        xc = x.float().contiguous()
        out = torch.empty((off.size - 1, xc.shape[1]), dtype=torch.float32, device=xc.device)
        offd = torch.from_numpy(off).to(xc.device)
        args = (xc.data_ptr(), offd.data_ptr(), out.data_ptr(), xc.shape[0], xc.shape[1], off.size - 1)
        _launch(_cuda_module("segment_mean").segment_mean_cuda, xc.device, *args)
        return out
    host = host_float(x)
    if kind == "native":
        return _native.require_native("segment_mean").segment_mean(host, off)
    return reference.segment_mean(host, off)


def segment_max_pool(sim: Any, offsets: Any, backend: str = "auto") -> Any:
    """Block maxima of a square matrix over contiguous spans (``[N, N]`` -> ``[M, M]``), diagonal 1."""
    kind = _kind(backend, sim, "segment_max_pool")
    off = _offsets(offsets, int(sim.shape[0]), "segment_max_pool")
    m, n = off.size - 1, int(sim.shape[0])
    if kind == "cuda":
        import torch

        sc = sim.float().contiguous()
        work = torch.empty((m, n), dtype=torch.float32, device=sc.device)
        out = torch.empty((m, m), dtype=torch.float32, device=sc.device)
        offd = torch.from_numpy(off).to(sc.device)
        fn = _cuda_module("segment_max_pool").segment_max_pool_cuda
        _launch(fn, sc.device, sc.data_ptr(), offd.data_ptr(), work.data_ptr(), out.data_ptr(), n, m)
        return out
    host = host_float(sim)
    if kind == "native":
        return _native.require_native("segment_max_pool").segment_max_pool(host, off)
    return reference.segment_max_pool(host, off)


def merge_scan(sim: Any, threshold: float, union: bool, backend: str = "auto") -> np.ndarray:
    """Span offsets ``[M+1]`` of the consecutive-scene merge (seed-spec §2.4; see ``reference.merge_scan``)."""
    kind = _kind(backend, sim, "merge_scan")
    if kind == "cuda":
        return merge_scan_batch([sim], threshold, union)[0]
    host = host_float(sim)
    if kind == "native":
        return _native.require_native("merge_scan").merge_scan(host, float(threshold), bool(union))
    return reference.merge_scan(host, threshold, union)


def merge_scan_batch(sims: Sequence[Any], threshold: float, union: bool) -> list[np.ndarray]:
    """``merge_scan`` of many videos' CUDA matrices in one launch (one GPU thread per video)."""
    import torch

    module = _cuda_module("merge_scan_batch")
    if not sims or not all(is_cuda_tensor(s) for s in sims):
        raise ValueError("merge_scan_batch: pass a non-empty list of torch CUDA tensors")
    device, n_max = sims[0].device, max(int(s.shape[0]) for s in sims)
    if len(sims) == 1:  # one video: no padded copy of a possibly huge matrix
        padded = sims[0].float().contiguous()
    else:
        padded = torch.zeros((len(sims), n_max, n_max), dtype=torch.float32, device=device)
        for b, s in enumerate(sims):
            padded[b, : s.shape[0], : s.shape[0]] = s
    sizes = torch.tensor([int(s.shape[0]) for s in sims], dtype=torch.int64, device=device)
    offsets = torch.empty((len(sims), n_max + 1), dtype=torch.int64, device=device)
    counts = torch.empty(len(sims), dtype=torch.int64, device=device)
    args = (padded.data_ptr(), sizes.data_ptr(), offsets.data_ptr(), counts.data_ptr(), len(sims), n_max)
    _launch(module.merge_scan_cuda, device, *args, float(threshold), bool(union))
    host_off, host_counts = offsets.cpu().numpy(), counts.cpu().numpy()
    return [host_off[b, : host_counts[b] + 1].copy() for b in range(len(sims))]


def span_scan(
    sim: Any,
    starts: np.ndarray,
    ends: np.ndarray,
    cap_start: np.ndarray,
    cap_end: np.ndarray,
    params: SpanParams,
    horizon_end: float,
    backend: str = "auto",
) -> SpanScan:
    """Seed-spec §2.8 steps 1-9 for a batch of caption segments (see ``reference.span_scan``)."""
    kind = _kind(backend, sim, "span_scan")
    times = [np.ascontiguousarray(a, dtype=np.float64) for a in (starts, ends, cap_start, cap_end)]
    args = (
        params.boundary_shift,
        params.same_threshold,
        params.min_secs,
        params.max_secs,
        float(horizon_end),
    )
    if kind == "cuda" and times[2].size and int(sim.shape[0]):
        return _span_scan_cuda(sim, times, args)
    if kind == "cuda":  # nothing to launch: no captions or no scenes
        kind = "reference"
    host = host_float(sim)
    if kind == "native":
        status, scenes, secs = _native.require_native("span_scan").span_scan(host, *times, *args)
        return SpanScan(status, scenes, secs)
    return reference.span_scan(host, *times, params, horizon_end)


def _span_scan_cuda(sim: Any, times: list[np.ndarray], args: tuple[float, ...]) -> SpanScan:
    import torch

    k, device = times[2].size, sim.device
    sc = sim.float().contiguous()
    dev = [torch.from_numpy(t).to(device) for t in times]
    status = torch.empty(k, dtype=torch.int64, device=device)
    scenes = torch.empty((k, 4), dtype=torch.int64, device=device)
    secs = torch.empty((k, 4), dtype=torch.float64, device=device)
    ptrs = (
        sc.data_ptr(),
        *(t.data_ptr() for t in dev),
        status.data_ptr(),
        scenes.data_ptr(),
        secs.data_ptr(),
    )
    _launch(_cuda_module("span_scan").span_scan_cuda, device, *ptrs, int(sc.shape[0]), k, *args)
    return SpanScan(status.cpu().numpy(), scenes.cpu().numpy(), secs.cpu().numpy())
