"""Frame sampling through NVIDIA DALI or PyNvVideoCodec (NVDEC), with PyAV's frame choice.

``decode.backend`` picks the decoder that fetches the sampled frames:

- ``pyav``: the reference sampler (``vidfast.io.sampling``), any codec FFmpeg decodes, CPU;
- ``dali``: ``nvidia.dali.fn.decoders.video`` fed one video per call with an explicit, sorted list
  of frame indices. ``device="gpu"`` decodes with NVDEC (mixed backend; H.264, HEVC, AV1, VP9 ...)
  and the frames stay on the GPU as a torch tensor; ``device="cpu"`` uses DALI's CPU decoder, which
  (DALI 2.4) only handles VP8, VP9 and MJPEG;
- ``nvdec``: ``PyNvVideoCodec.SimpleDecoder`` (``get_batch_frames_by_index``), frames on the GPU;
- ``auto``: ``dali`` on a GPU when importable, else ``nvdec`` on a GPU when importable, else ``pyav``.

Which frame a target time gets is decided once, the same way for every backend: the packets are
scanned (demux only) for every frame's PTS and ``vidfast.io.sampling``'s rule maps each target time
to an output-order frame index. The GPU decoders are only asked for those indices, so variable-frame-
rate video gets exactly the frames the reference gets. Frames are RGB; the decoders convert YUV to
RGB with their own chroma upsampling, so pixels differ from PyAV's swscale conversion by a few levels
(measured on the synthetic VP9/MJPEG clips: mean absolute difference under 3, 99th percentile under
20 levels at sharp colour edges; tests/io/test_gpu_decode.py). Resizing and rotation follow
``vidfast.io.decode``'s geometry, done by ``vidfast.ops.resize`` (CUDA kernels for GPU frames).

A video the chosen decoder cannot read raises ``DecodeError`` naming the problem and the fix; the
runner records it for that video and goes on.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from vidfast.errors import BackendUnavailable, ConfigError, DecodeError
from vidfast.io.decode import DecodeStats, output_size

DECODE_BACKENDS = ("auto", "pyav", "dali", "nvdec")
# DALI 2.4's CPU video decoder (libavcodec inside DALI) has no H.264/HEVC/MPEG-4 software decoders.
DALI_CPU_CODECS = frozenset({"vp8", "vp9", "mjpeg"})
NVDEC_CODECS = frozenset(
    {"h264", "hevc", "av1", "vp8", "vp9", "mpeg1video", "mpeg2video", "mpeg4", "mjpeg", "vc1"}
)


def _dali_reason() -> str | None:
    from vidfast.backends import _import_error

    err = _import_error("nvidia.dali")
    return f"nvidia.dali does not import ({err}); install with: pip install 'vidfast[dali]'" if err else None


def _nvdec_reason() -> str | None:
    from vidfast.backends import _import_error, cuda_reason

    err = _import_error("PyNvVideoCodec")
    if err:
        return f"PyNvVideoCodec does not import ({err}); install with: pip install pynvvideocodec"
    return cuda_reason()


def backend_reasons() -> dict[str, str | None]:
    """Each explicit decode backend mapped to ``None`` when it can run here, else why not."""
    from vidfast.backends import cuda_reason

    dali = _dali_reason()
    return {
        "pyav": None,
        "dali": dali,  # its CPU decoder runs without a GPU (VP8/VP9/MJPEG only)
        "dali-gpu": dali or cuda_reason(),
        "nvdec": _nvdec_reason(),
    }


def resolve_backend(requested: str = "auto") -> tuple[str, str]:
    """``(backend, device)`` for ``decode.backend``: ``auto`` takes GPU decode when it can run here
    (DALI, then PyNvVideoCodec) and PyAV otherwise; an explicit choice that cannot run raises
    ``BackendUnavailable`` with the reason. ``device`` is ``"gpu"`` or ``"cpu"``."""
    if requested not in DECODE_BACKENDS:
        raise ConfigError(f"unknown decode backend {requested!r}; valid: {', '.join(DECODE_BACKENDS)}")
    reasons = backend_reasons()
    if requested == "auto":
        if reasons["dali-gpu"] is None:
            return "dali", "gpu"
        if reasons["nvdec"] is None:
            return "nvdec", "gpu"
        return "pyav", "cpu"
    if requested == "pyav":
        return "pyav", "cpu"
    if requested == "dali":
        if reasons["dali"]:
            raise BackendUnavailable(f"decode backend 'dali' is unavailable: {reasons['dali']}")
        return "dali", ("gpu" if reasons["dali-gpu"] is None else "cpu")
    if reasons["nvdec"]:
        raise BackendUnavailable(f"decode backend 'nvdec' is unavailable: {reasons['nvdec']}")
    return "nvdec", "gpu"


def check_codec(backend: str, device: str, codec: str, path: str) -> None:
    """Refuse, before any decoder touches the file, a codec the backend cannot decode (DALI's CPU
    decoder fails a whole batch, NVDEC returns nothing) with the fix in the message."""
    if backend == "dali" and device == "cpu" and codec not in DALI_CPU_CODECS:
        raise DecodeError(
            "decode_failed",
            f"{path}: codec {codec} cannot be decoded by DALI's CPU decoder (it handles "
            f"{', '.join(sorted(DALI_CPU_CODECS))}); use decode.backend=pyav, or run on a GPU for NVDEC",
        )
    if device == "gpu" and codec not in NVDEC_CODECS:
        raise DecodeError(
            "decode_failed",
            f"{path}: codec {codec} has no NVDEC decoder; use decode.backend=pyav for this video",
        )


@dataclass(frozen=True)
class FramePlan:
    """Which frames a sample plan needs: every target's frame, the sorted distinct frames, their times,
    and the output geometry (height, width after scaling; clockwise rotation)."""

    frame_of_target: np.ndarray  # int64 [T], plan order
    frames: np.ndarray  # int64 [F], sorted distinct
    frame_times: np.ndarray  # float64 [F]
    out_hw: tuple[int, int] | None  # None: native size
    rotation: int
    codec: str
    frame_count: int


def frame_plan(
    path: str | os.PathLike[str],
    plan: Any,
    size: tuple[int, int] | None = None,
    short_side: int | None = None,
    max_width: int | None = None,
    autorotate: bool = True,
) -> FramePlan:
    """The frames of ``plan`` chosen exactly as ``vidfast.io.sampling.sample_frames`` chooses them."""
    import av

    from vidfast.io.probe import probe, scan_packets
    from vidfast.io.sampling import TIME_EPS_S, _Timeline

    info = probe(path)  # header + one decoded frame: proves the file is a readable video
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        scan = scan_packets(container, stream)
        if scan is None or not len(scan.pts):
            raise DecodeError(
                "decode_failed",
                f"{path}: packets carry no timestamps; use decode.backend=pyav for this video",
            )
        timeline = _Timeline.build(scan, stream)
    frame_of_target = timeline.frame_for(np.asarray(plan.times, np.float64) + TIME_EPS_S).astype(np.int64)
    frames = np.unique(frame_of_target)
    rotation = info.rotation if autorotate else 0
    w, h = info.display_width, info.display_height
    if not autorotate and info.rotation % 180 == 90:
        w, h = h, w
    hw = output_size(w, h, size, short_side, max_width)
    if hw is None and (w, h) != (
        (info.height, info.width) if rotation % 180 == 90 else (info.width, info.height)
    ):
        hw = (h, w)  # non-square pixels: scale to the display size
    return FramePlan(frame_of_target, frames, timeline.times[frames], hw, rotation, info.codec, len(scan.pts))


def _to_output(images: Any, fp: FramePlan) -> Any:
    """Decoded ``[F, H, W, 3]`` frames (numpy or torch) scaled and rotated like the PyAV path."""
    from vidfast import ops

    k = -fp.rotation // 90 % 4  # counter-clockwise quarter turns
    if fp.out_hw is not None:
        h, w = fp.out_hw
        if k % 2:  # the geometry is for the upright image; scale before turning
            h, w = w, h
        if tuple(images.shape[1:3]) != (h, w):
            images = ops.resize(images, (h, w), interpolation="bilinear")
    if k:
        if isinstance(images, np.ndarray):
            images = np.ascontiguousarray(np.rot90(images, k=k, axes=(1, 2)))
        else:
            images = images.rot90(k, dims=(1, 2)).contiguous()
    return images


# ---- DALI ----------------------------------------------------------------------------------------------

_local = threading.local()


def _dali_pipeline(device: str, threads: int) -> Any:
    """One built pipeline per thread and device: encoded bytes + frame list in, ``[F, H, W, 3]`` out."""
    pipes = getattr(_local, "pipes", None)
    if pipes is None:
        pipes = _local.pipes = {}
    if device not in pipes:
        from nvidia.dali import fn, pipeline_def, types

        @pipeline_def(
            batch_size=1,
            num_threads=max(1, threads),
            device_id=0 if device == "gpu" else None,
            prefetch_queue_depth=1,
            exec_dynamic=True,
        )
        def pipe() -> Any:
            encoded = fn.external_source(name="encoded", dtype=types.UINT8, ndim=1)
            frames = fn.external_source(name="frames", dtype=types.INT32, ndim=1)
            return fn.decoders.video(encoded, device="mixed" if device == "gpu" else "cpu", frames=frames)

        built = pipe()
        built.build()
        pipes[device] = built
    return pipes[device]


def _dali_output(out: Any, device: str) -> Any:
    """The pipeline's one sample as numpy (CPU) or a torch CUDA tensor it owns (GPU: DLPack, cloned
    because DALI reuses its output buffers on the next run)."""
    tensor = out[0]
    if device == "cpu":
        return np.array(tensor)
    import torch

    try:
        return torch.from_dlpack(tensor).clone()
    except (TypeError, AttributeError, RuntimeError, BufferError):  # a DALI without __dlpack__ on GPU tensors
        from nvidia.dali.plugin.pytorch import feed_ndarray

        out = torch.empty(tuple(tensor.shape()), dtype=torch.uint8, device="cuda")
        feed_ndarray(tensor, out, cuda_stream=torch.cuda.current_stream())
        return out


def decode_frames_dali(
    path: str | os.PathLike[str], frames: np.ndarray, device: str = "cpu", threads: int = 2
) -> Any:
    """Frames ``frames`` (sorted output-order indices) of ``path`` as ``[F, H, W, 3]`` uint8 RGB."""
    pipe = _dali_pipeline(device, threads)
    try:
        data = np.fromfile(str(path), np.uint8)
    except OSError as exc:
        raise DecodeError("unreadable", f"{path}: cannot read the file ({exc})") from exc
    pipe.feed_input("encoded", [data])
    pipe.feed_input("frames", [np.asarray(frames, np.int32)])
    try:
        (out,) = pipe.run()
    except Exception as exc:  # DALI raises RuntimeError with a multi-line pipeline trace
        _local.pipes.pop(device, None)  # a failed pipeline is not reused
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        detail = next(
            (ln for ln in lines if "Assert" in ln or "rror" in ln.split(":")[0]), lines[-1] if lines else ""
        )
        raise DecodeError(
            "decode_failed",
            f"{path}: DALI could not decode the requested frames ({detail[:240]}); "
            "use decode.backend=pyav for this video",
        ) from exc
    return _dali_output(out, device)


# ---- PyNvVideoCodec ------------------------------------------------------------------------------------


def decode_frames_nvdec(path: str | os.PathLike[str], frames: np.ndarray, gpu_id: int = 0) -> Any:
    """Frames ``frames`` of ``path`` decoded by NVDEC through ``PyNvVideoCodec.SimpleDecoder`` as a
    CUDA ``[F, H, W, 3]`` uint8 RGB torch tensor."""
    import PyNvVideoCodec as nvc
    import torch

    try:
        decoder = nvc.SimpleDecoder(
            str(path), gpu_id=gpu_id, use_device_memory=True, output_color_type=nvc.OutputColorType.RGB
        )
        if len(frames) and int(frames[-1]) >= len(decoder):
            raise DecodeError(
                "decode_failed",
                f"{path}: NVDEC sees {len(decoder)} frames but frame {int(frames[-1])} was asked for "
                "(the container index and the packet scan disagree); use decode.backend=pyav for this video",
            )
        decoded = decoder.get_batch_frames_by_index([int(i) for i in frames])
        return torch.stack([torch.from_dlpack(f) for f in decoded]).clone()
    except DecodeError:
        raise
    except Exception as exc:  # PyNvVideoCodec raises its own exception types and RuntimeError
        raise DecodeError(
            "decode_failed",
            f"{path}: NVDEC (PyNvVideoCodec) could not decode it ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); use decode.backend=pyav for this video",
        ) from exc


# ---- the sampler ---------------------------------------------------------------------------------------


def sample_frames_gpu(
    path: str | os.PathLike[str],
    plan: Any,
    backend: str,
    device: str = "gpu",
    size: tuple[int, int] | None = None,
    short_side: int | None = None,
    max_width: int | None = None,
    autorotate: bool = True,
    threads: int = 2,
) -> Any:
    """``vidfast.io.sampling.sample_frames`` through DALI (``device`` gpu or cpu) or NVDEC: the same
    frames (indices, times), RGB only; on the GPU ``images`` is a CUDA tensor ``[N, H, W, 3]``."""
    from vidfast.io.sampling import SampledFrames

    stats, t0 = DecodeStats(), time.perf_counter()
    fp = frame_plan(path, plan, size, short_side, max_width, autorotate)
    check_codec(backend, device, fp.codec, str(path))
    if not len(fp.frames):
        empty = np.zeros((0, 1, 1, 3), np.uint8)
        return SampledFrames(empty, np.zeros(0), np.zeros(0, np.int64), plan.range_ids, plan.times, stats)
    if backend == "dali":
        images = decode_frames_dali(path, fp.frames, device, threads)
    elif backend == "nvdec":
        images = decode_frames_nvdec(path, fp.frames)
    else:
        raise ConfigError(f"sample_frames_gpu: backend must be dali or nvdec, got {backend!r}")
    if len(images) != len(fp.frames):
        raise DecodeError(
            "decode_failed", f"{path}: the decoder returned {len(images)} of {len(fp.frames)} frames"
        )
    images = _to_output(images, fp)
    pos = np.searchsorted(fp.frames, fp.frame_of_target)
    stats.frames_decoded = stats.frames_converted = len(fp.frames)
    stats.expected_frames = fp.frame_count
    stats.seconds = time.perf_counter() - t0
    index = pos if isinstance(images, np.ndarray) else _torch_index(pos, images)
    return SampledFrames(
        images[index], fp.frame_times[pos], fp.frames[pos], plan.range_ids, plan.times, stats
    )


def _torch_index(pos: np.ndarray, images: Any) -> Any:
    import torch

    return torch.as_tensor(pos, device=images.device)
