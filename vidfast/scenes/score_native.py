"""Native score backends: C++/OpenMP kernels (numpy in) and the CUDA kernel (torch tensors in).

Both compute the reference backend's numbers exactly (integer sums divided by the pixel count in
double); the CPU kernel also reproduces OpenCV's Canny + dilation bit for bit. The CUDA kernel
covers hue/sat/lum only: with edge weights the CPU kernel is used for the edges.
"""

from __future__ import annotations

import numpy as np

from vidfast import _native
from vidfast.scenes.base import ScoreBackend


class NativeScoreBackend(ScoreBackend):
    """``vidfast._C.content_scores``: batched HSV + deltas (+ exact Canny edges), GIL released."""

    name = "native"

    def reason(self) -> str | None:
        if not _native.HAS_NATIVE:
            return f"vidfast._C is not available ({_native.NATIVE_IMPORT_ERROR}); build it with `pip install -e .`"
        if not hasattr(_native.require_native("scene scores"), "content_scores"):
            return "vidfast._C was built without the scenes kernels; rebuild it (`pip install -e .`)"
        return None

    def scores(self, frames: np.ndarray, prev: np.ndarray | None, with_edges: bool, kernel_size: int) -> np.ndarray:
        c = _native.require_native("native scene scores")
        frames = np.ascontiguousarray(frames, dtype=np.uint8)
        prev = None if prev is None else np.ascontiguousarray(prev, dtype=np.uint8)
        return c.content_scores(frames, prev, bool(with_edges), int(kernel_size))


def content_sums_cuda(frames, prev=None):  # noqa: ANN001, ANN201 - torch types stay optional
    """GPU sums of |delta| H, S, V: frames uint8 CUDA tensor [N,H,W,3] BGR (+ prev [H,W,3]) ->
    int64 CUDA tensor [N, 3]; divide by H*W (in float64) for the scenedetect components."""
    import torch

    c = _native.require_cuda_kernels("CUDA scene scores")
    frames = frames.contiguous()
    n, h, w, ch = frames.shape
    if ch != 3 or frames.dtype != torch.uint8 or not frames.is_cuda:
        raise ValueError(f"frames must be a uint8 CUDA tensor [N,H,W,3], got {frames.dtype} {tuple(frames.shape)}")
    prev_ptr = 0
    if prev is not None:
        prev = prev.contiguous()
        if tuple(prev.shape) != (h, w, 3) or prev.device != frames.device:
            raise ValueError("prev must be a uint8 tensor [H,W,3] on the frames' device")
        prev_ptr = prev.data_ptr()
    out = torch.empty((n, 3), dtype=torch.int64, device=frames.device)
    stream = torch.cuda.current_stream(frames.device).cuda_stream
    c.content_sums_cuda(frames.data_ptr(), prev_ptr, out.data_ptr(), n, h, w, stream)
    return out


class CudaScoreBackend(ScoreBackend):
    """Host batches uploaded to the GPU and scored there (hue/sat/lum; edges fall back to the CPU kernel)."""

    name = "cuda"

    def reason(self) -> str | None:
        if not _native.HAS_CUDA_KERNELS:
            return "vidfast._C was built without CUDA kernels (rebuild with nvcc: VIDFAST_TARGET_DEVICE=cuda)"
        if not hasattr(_native.require_native("scene scores"), "content_sums_cuda"):
            return "vidfast._C was built without the scenes CUDA kernel; rebuild it"
        if not _native.cuda_runtime_available():
            return "no CUDA device visible to torch"
        return None

    def scores(self, frames: np.ndarray, prev: np.ndarray | None, with_edges: bool, kernel_size: int) -> np.ndarray:
        import torch

        dev = torch.device("cuda")
        t = torch.from_numpy(np.ascontiguousarray(frames)).to(dev, non_blocking=True)
        p = None if prev is None else torch.from_numpy(np.ascontiguousarray(prev)).to(dev, non_blocking=True)
        sums = content_sums_cuda(t, p).cpu().numpy()
        out = np.zeros((len(frames), 4), dtype=np.float64)
        out[:, :3] = sums.astype(np.float64) / float(frames.shape[1] * frames.shape[2])
        if with_edges:
            out[:, 3] = NativeScoreBackend().scores(frames, prev, True, kernel_size)[:, 3]
        return out
