"""TensorRT engines built from vidfast's dynamic-batch ONNX exports, cached per machine, run on torch
CUDA tensors.

Written against TensorRT's documented Python API (``tensorrt``: ``Builder``, ``OnnxParser``,
``Runtime``; name-based I/O with ``execute_async_v3``), in the strongly-typed style that TensorRT 11
requires and 10.12+ accepts: the precision lives in the ONNX graph (export it from an fp16 model, or
convert an fp32 export with ModelOpt AutoCast), never in builder flags.

- ``make_profile``: one optimisation profile from the ONNX inputs — the dimension named ``batch``
  spans the stage's batch sizes (min, opt, max), ``sequence`` spans text lengths, fixed dimensions
  stay fixed; anything else symbolic is an error naming the input.
- ``engine_key``: sha256 over the ONNX bytes, the TensorRT version, the GPU's SM, the profile and
  the build settings. An engine is tied to exactly these (TensorRT plans are not portable across
  versions or GPU architectures), so a change in any of them builds a new engine instead of loading
  a wrong one. Plans live in ``VIDFAST_CACHE_DIR/tensorrt/<model-key>/<tower>-<key>.plan`` with a
  JSON sidecar, written atomically; the timing cache is kept per (TensorRT version, SM).
- ``TrtEngine.run(**tensors)``: contiguous CUDA tensors in, the output as a CUDA tensor, on the
  current torch stream; no host copies.

TensorRT is not installable on the CPU build machines (its libraries come from NVIDIA's own index);
the cache and profile logic is tested there without it, and ``vidfast info`` says which vision
runtime is used instead and why.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vidfast.errors import BackendUnavailable, ConfigError

BATCH_DIM, SEQUENCE_DIM = "batch", "sequence"
DEFAULT_SEQUENCE = (1, 16, 77)  # CLIP text: min, opt, max tokens
DEFAULT_WORKSPACE_GB = 4.0
BUILD_VERSION = 1  # bump when build settings change in a way the key must see


@dataclass(frozen=True)
class InputShape:
    """One input's optimisation-profile shapes."""

    name: str
    min: tuple[int, ...]
    opt: tuple[int, ...]
    max: tuple[int, ...]


@dataclass(frozen=True)
class EngineProfile:
    """The optimisation profile of an engine: every input's min / opt / max shape."""

    inputs: tuple[InputShape, ...]

    def to_json(self) -> str:
        return json.dumps([asdict(i) for i in self.inputs], sort_keys=True)

    def batch_range(self) -> tuple[int, int]:
        """(min, max) batch the engine accepts."""
        return self.inputs[0].min[0], self.inputs[0].max[0]


def onnx_inputs(path: str | os.PathLike[str]) -> list[tuple[str, list[int | str]]]:
    """Each graph input's name and dimensions (ints, or the symbolic name of a dynamic dimension)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    initializers = {i.name for i in model.graph.initializer}
    out = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        dims: list[int | str] = []
        for d in value.type.tensor_type.shape.dim:
            dims.append(d.dim_param if d.dim_param else int(d.dim_value))
        out.append((value.name, dims))
    return out


def _check_batches(batch_sizes: Sequence[int]) -> list[int]:
    sizes = sorted({int(b) for b in batch_sizes})
    if not sizes or sizes[0] < 1:
        raise ConfigError(f"TensorRT profile batch sizes must be positive integers, got {list(batch_sizes)}")
    return sizes


def make_profile(
    onnx_path: str | os.PathLike[str],
    batch_sizes: Sequence[int],
    opt_batch: int | None = None,
    sequence: tuple[int, int, int] = DEFAULT_SEQUENCE,
) -> EngineProfile:
    """The profile covering ``batch_sizes`` (the sizes the stage runs; ``opt_batch`` defaults to the
    largest, which is the size full batches have) for the inputs of ``onnx_path``."""
    sizes = _check_batches(batch_sizes)
    opt = sizes[-1] if opt_batch is None else int(opt_batch)
    if not sizes[0] <= opt <= sizes[-1]:
        raise ConfigError(f"TensorRT opt batch {opt} is outside the profile's batch sizes {sizes}")
    if not (1 <= sequence[0] <= sequence[1] <= sequence[2]):
        raise ConfigError(f"TensorRT sequence range must be 1 <= min <= opt <= max, got {sequence}")
    shapes = []
    for name, dims in onnx_inputs(onnx_path):
        triples = []
        for d in dims:
            if d == BATCH_DIM:
                triples.append((sizes[0], opt, sizes[-1]))
            elif d == SEQUENCE_DIM:
                triples.append(sequence)
            elif isinstance(d, int) and d > 0:
                triples.append((d, d, d))
            else:
                raise ConfigError(
                    f"{onnx_path}: input {name!r} has dimension {d!r}; TensorRT profiles here know only "
                    f"'{BATCH_DIM}', '{SEQUENCE_DIM}' and fixed sizes (re-export with those dynamic axes)"
                )
        lo, mid, hi = (tuple(t[i] for t in triples) for i in range(3))
        shapes.append(InputShape(name, lo, mid, hi))
    if not shapes:
        raise ConfigError(f"{onnx_path}: the ONNX graph has no inputs")
    return EngineProfile(tuple(shapes))


def file_digest(path: str | os.PathLike[str]) -> str:
    """sha256 of an ONNX file and of any external-data files beside it (``<name>.data``/``*.onnx.data``)."""
    path = Path(path)
    digest = hashlib.sha256()
    for part in [
        path,
        *sorted(path.parent.glob(path.name + ".data")),
        *sorted(path.parent.glob(path.stem + ".data")),
    ]:
        with open(part, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def engine_key(
    onnx_digest: str, trt_version: str, sm: str, profile: EngineProfile, settings: dict[str, Any]
) -> str:
    """The cache key of an engine: everything a TensorRT plan is tied to."""
    doc = json.dumps(
        {
            "onnx": onnx_digest,
            "tensorrt": trt_version,
            "sm": sm,
            "profile": profile.to_json(),
            "settings": settings,
            "build": BUILD_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha256(doc.encode()).hexdigest()


def engine_path(model_key: str, tower: str, key: str) -> Path:
    from vidfast.models.loader import cache_root

    return cache_root() / "tensorrt" / model_key / f"{tower}-{key[:20]}.plan"


def gpu_sm(device: int = 0) -> str:
    """``sm_<major><minor>`` of the CUDA device (what a TensorRT plan is built for)."""
    import torch

    major, minor = torch.cuda.get_device_capability(device)
    return f"sm_{major}{minor}"


def tensorrt_reason() -> str | None:
    """None when TensorRT can build and run engines here, else why not."""
    from vidfast.backends import _import_error, cuda_reason

    err = _import_error("tensorrt")
    if err:
        return (
            f"tensorrt is not installed ({err}); pip install tensorrt-cu13 fetches it from NVIDIA's "
            "package index (unreachable offline)"
        )
    import tensorrt as trt

    if not hasattr(trt, "Builder") or not hasattr(trt, "OnnxParser"):
        return "this tensorrt has no Builder/OnnxParser (the lean runtime only runs prebuilt engines)"
    return cuda_reason()


def _strongly_typed_flags(trt: Any) -> int:
    flag = getattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED", None)
    return 1 << int(flag) if flag is not None else 0  # TensorRT 11: always strongly typed


def build_engine(
    onnx_path: str | os.PathLike[str],
    profile: EngineProfile,
    workspace_gb: float = DEFAULT_WORKSPACE_GB,
    timing_cache: Path | None = None,
) -> bytes:
    """A serialized TensorRT plan of ``onnx_path`` with ``profile`` (strongly typed: precision is the
    ONNX graph's). Parser errors are raised as ``ConfigError`` with TensorRT's messages."""
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(_strongly_typed_flags(trt))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ConfigError(f"TensorRT cannot parse {onnx_path}: {errors[:600]}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_gb * (1 << 30)))
    opt_profile = builder.create_optimization_profile()
    for shape in profile.inputs:
        opt_profile.set_shape(shape.name, shape.min, shape.opt, shape.max)
    config.add_optimization_profile(opt_profile)
    cache = None
    if timing_cache is not None:
        cache = config.create_timing_cache(timing_cache.read_bytes() if timing_cache.is_file() else b"")
        config.set_timing_cache(cache, ignore_mismatch=False)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise ConfigError(f"TensorRT failed to build an engine from {onnx_path} (see its log above)")
    if cache is not None and timing_cache is not None:
        _atomic_write(timing_cache, bytes(cache.serialize()))
    return bytes(plan)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


_TORCH_DTYPES = {"FLOAT": "float32", "HALF": "float16", "BF16": "bfloat16", "INT32": "int32", "INT64": "int64",
                 "BOOL": "bool", "INT8": "int8", "UINT8": "uint8"}  # fmt: skip


class TrtEngine:
    """A deserialized engine and one execution context; ``run`` takes and returns CUDA tensors."""

    def __init__(self, plan: bytes, device: str = "cuda") -> None:
        import tensorrt as trt

        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        self.engine = self.runtime.deserialize_cuda_engine(plan)
        if self.engine is None:
            raise ConfigError(
                "TensorRT could not deserialize the cached engine (rebuild: delete the .plan file)"
            )
        self.context = self.engine.create_execution_context()
        self.device = device
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        mode = trt.TensorIOMode.INPUT
        self.inputs = [n for n in names if self.engine.get_tensor_mode(n) == mode]
        self.outputs = [n for n in names if self.engine.get_tensor_mode(n) != mode]

    def _dtype(self, name: str) -> Any:
        import torch

        kind = str(self.engine.get_tensor_dtype(name)).rsplit(".", 1)[-1]
        return getattr(torch, _TORCH_DTYPES[kind])

    def run(self, **inputs: Any) -> Any:
        """Run on CUDA tensors named like the ONNX inputs; returns the (first) output tensor."""
        import torch

        missing = set(self.inputs) - set(inputs)
        if missing:
            raise ConfigError(f"TensorRT engine needs inputs {sorted(missing)}")
        keep = []
        for name in self.inputs:
            t = inputs[name].to(self.device, self._dtype(name)).contiguous()
            keep.append(t)
            self.context.set_input_shape(name, tuple(t.shape))
            self.context.set_tensor_address(name, t.data_ptr())
        outs = []
        for name in self.outputs:
            shape = tuple(self.context.get_tensor_shape(name))
            out = torch.empty(shape, dtype=self._dtype(name), device=self.device)
            self.context.set_tensor_address(name, out.data_ptr())
            outs.append(out)
        stream = torch.cuda.current_stream()
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise ConfigError("TensorRT execution failed (see its log above)")
        return outs[0]


def engine_for_onnx(
    onnx_path: str | os.PathLike[str],
    tower: str,
    device: str = "cuda",
    batch_sizes: Sequence[int] = (1, 16, 64),
    opt_batch: int | None = None,
    workspace_gb: float = DEFAULT_WORKSPACE_GB,
) -> TrtEngine:
    """The engine of ``onnx_path`` (built on first use, then loaded from the cache)."""
    reason = tensorrt_reason()
    if reason:
        raise BackendUnavailable(f"vision backend 'tensorrt' is unavailable: {reason}")
    import tensorrt as trt

    onnx_path = Path(onnx_path)
    profile = make_profile(onnx_path, batch_sizes, opt_batch)
    sm = gpu_sm()
    settings = {"workspace_gb": workspace_gb, "strongly_typed": True}
    key = engine_key(file_digest(onnx_path), trt.__version__, sm, profile, settings)
    path = engine_path(onnx_path.parent.name, tower, key)
    if not path.is_file():
        timing = path.parent.parent / f"timing-{trt.__version__}-{sm}.cache"
        plan = build_engine(onnx_path, profile, workspace_gb, timing)
        _atomic_write(path, plan)
        meta = {"onnx": str(onnx_path), "tensorrt": trt.__version__, "sm": sm, "profile": json.loads(profile.to_json()),
                "settings": settings, "key": key}  # fmt: skip
        _atomic_write(path.with_suffix(".json"), json.dumps(meta, indent=2).encode())
    return TrtEngine(path.read_bytes(), device)


def vision_runtime() -> dict[str, str]:
    """Which vision runtime runs here and why, for ``vidfast info``."""
    from vidfast.backends import cuda_reason

    trt_reason = tensorrt_reason()
    cuda = cuda_reason()
    if trt_reason is None:
        return {"using": "tensorrt", "why": "TensorRT and a CUDA GPU are present (vision_backend=tensorrt)"}
    if cuda is None:
        using = "torch on CUDA (vision_backend=torch-cudagraphs: torch.compile + CUDA graphs; torch: eager)"
    else:
        using = "onnxruntime (float32 on CPU, vision_backend=auto) / torch"
    return {"using": using, "why": f"tensorrt: unavailable ({trt_reason.split(';')[0]})"}
