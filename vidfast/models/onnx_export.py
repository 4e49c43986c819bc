"""ONNX export of model towers and an onnxruntime runner for them.

Exports go to ``VIDFAST_CACHE_DIR/onnx/<model-key>/<tower>-<precision>-opset<N>.onnx`` (written to a
temporary name, then renamed), so each (model, precision, opset) is exported once per machine. The
model key is the model's name plus a hash of its config and weight files, so a changed model never
reuses a stale graph. The legacy TorchScript exporter is used (``dynamo=False``): it honours
``dynamic_axes`` (batch, and sequence for text), needs no ``onnxscript`` and exports a tiny CLIP in
well under a second.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vidfast.errors import BackendUnavailable
from vidfast.models.loader import cache_root


def model_key(name: str, model_dir: Path) -> str:
    """``<name>-<hash>``: the hash covers config.json and the names and sizes of the weight files."""
    digest = hashlib.sha256()
    digest.update((model_dir / "config.json").read_bytes())
    for path in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        digest.update(f"{path.name}:{path.stat().st_size}".encode())
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.strip("/"))
    return f"{safe}-{digest.hexdigest()[:12]}"


def onnx_path(key: str, tower: str, precision: str, opset: int) -> Path:
    """Where the ONNX file of one tower of one model at one precision and opset is cached."""
    return cache_root() / "onnx" / key / f"{tower}-{precision}-opset{opset}.onnx"


def export_onnx(
    module: Any,
    inputs: tuple[Any, ...],
    path: Path,
    input_names: Sequence[str],
    dynamic_axes: dict[str, dict[int, str]],
    opset: int = 17,
    output_name: str = "embeds",
) -> Path:
    """Export ``module(*inputs)`` (one output, ``output_name``) to ``path`` atomically; returns ``path``."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TracerWarnings about shape-dependent Python branches
            torch.onnx.export(
                module,
                inputs,
                str(tmp),
                input_names=list(input_names),
                output_names=[output_name],
                dynamic_axes={**dynamic_axes, output_name: {0: "batch"}},
                opset_version=opset,
                dynamo=False,
                do_constant_folding=True,
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def ort_providers(device: str) -> list[str]:
    """onnxruntime execution providers for ``device``; CUDA without onnxruntime-gpu raises."""
    import onnxruntime as ort

    if not device.startswith("cuda"):
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        raise BackendUnavailable(
            "onnxruntime has no CUDAExecutionProvider here; install onnxruntime-gpu "
            "(pip install onnxruntime-gpu) or use backend=torch on the GPU"
        )
    return ["CUDAExecutionProvider", "CPUExecutionProvider"]


class OrtTower:
    """One exported tower run by onnxruntime: ``run(**numpy_inputs) -> numpy embeds`` (or ``output_name``)."""

    def __init__(self, path: Path, device: str = "cpu", threads: int = 0, output_name: str = "embeds") -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = path
        self.session = ort.InferenceSession(str(path), options, providers=ort_providers(device))
        self.device, self.output_name = device, output_name
        self.input_types = {i.name: i.type for i in self.session.get_inputs()}

    def run(self, **inputs: np.ndarray) -> np.ndarray:
        """Run the session on numpy inputs (cast to the graph's float type) and return the embeddings."""
        feed = {name: _cast(inputs[name], kind) for name, kind in self.input_types.items()}
        return self.session.run([self.output_name], feed)[0]


def _cast(x: np.ndarray, ort_type: str) -> np.ndarray:
    if ort_type == "tensor(float16)":
        return x.astype(np.float16, copy=False)
    if ort_type == "tensor(float)":
        return x.astype(np.float32, copy=False)
    return x.astype(np.int64, copy=False) if ort_type == "tensor(int64)" else x
