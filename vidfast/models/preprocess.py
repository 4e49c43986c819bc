"""Image preprocessing for the vision models: uint8 RGB frames -> normalised float32 NCHW pixel values.

Two implementations of the HF image processors' geometry (CLIP: shortest edge to ``size`` then a
centre crop; BLIP: straight resize to ``size x size``), then ``/255``, mean/std:

- ``ops``: ``vidfast.ops.resize(area)`` (native C++/CUDA kernels, antialiased when shrinking) and
  ``vidfast.ops.normalize_to_chw``; the fast path for host frames. It differs from PIL's bicubic
  filter by a small amount (see tests/models/test_preprocess.py for the measured tolerance).
- ``torch``: ``F.interpolate(bicubic, antialias=True)`` rounded to uint8 like PIL; matches the HF
  processor to about one grey level; used for CUDA tensors and as the oracle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidfast.errors import ConfigError
from vidfast.models.manifest import ModelManifest

METHODS = ("auto", "ops", "torch")


@dataclass(frozen=True)
class ImageSpec:
    """What a vision model expects: square ``size``, centre-crop or not, mean/std in [0, 1] units."""

    size: int
    center_crop: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    @classmethod
    def from_manifest(cls, manifest: ModelManifest) -> ImageSpec:
        """The spec in a manifest's ``preprocessing`` block."""
        pre = manifest.preprocessing
        return cls(int(pre["image_size"]), pre.get("crop") == "center", tuple(pre["mean"]), tuple(pre["std"]))

    @classmethod
    def from_model_dir(cls, path: Path) -> ImageSpec:
        """The spec in a model directory's ``preprocessor_config.json`` (or ``processor_config.json``)."""
        cfg = _read_processor_config(path)
        size = cfg.get("crop_size") if cfg.get("do_center_crop") else cfg.get("size")
        size = (
            size if isinstance(size, int) else (size or {}).get("height") or (size or {}).get("shortest_edge")
        )
        if not size:
            raise ConfigError(f"cannot tell the input size of the model in {path} from its processor config")
        return cls(
            int(size), bool(cfg.get("do_center_crop")), tuple(cfg["image_mean"]), tuple(cfg["image_std"])
        )


def _read_processor_config(path: Path) -> dict[str, Any]:
    for name in ("preprocessor_config.json", "processor_config.json"):
        if (path / name).is_file():
            doc = json.loads((path / name).read_text())
            return doc.get("image_processor", doc)
    raise ConfigError(f"{path} has no preprocessor_config.json; re-save the model with its processor")


def spec_for(manifest: ModelManifest | None, model_dir: Path) -> ImageSpec:
    """The manifest's preprocessing when the model has one, else the directory's processor config."""
    return ImageSpec.from_manifest(manifest) if manifest is not None else ImageSpec.from_model_dir(model_dir)


def resized_shape(h: int, w: int, spec: ImageSpec) -> tuple[int, int]:
    """(height, width) after the resize step, exactly as the HF processors compute it."""
    if not spec.center_crop:
        return spec.size, spec.size
    short, long = (h, w) if h <= w else (w, h)
    new_long = int(spec.size * long / short)
    return (spec.size, new_long) if h <= w else (new_long, spec.size)


def _crop_box(h: int, w: int, size: int) -> tuple[int, int]:
    return (h - size) // 2, (w - size) // 2


def pixel_values(frames: Any, spec: ImageSpec, method: str = "auto") -> Any:
    """uint8 RGB frames (``[N,H,W,3]``/``[H,W,3]`` numpy or torch, or a list of ``[H,W,3]``) -> float32
    torch ``[N,3,S,S]`` on the frames' device."""
    import torch

    if method not in METHODS:
        raise ConfigError(f"unknown preprocessing method {method!r}; valid: {', '.join(METHODS)}")
    if isinstance(frames, (list, tuple)):
        return _from_list(frames, spec, method)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be uint8 [N,H,W,3] RGB, got shape {tuple(frames.shape)}")
    if frames.shape[0] == 0:
        return torch.empty((0, 3, spec.size, spec.size), dtype=torch.float32)
    cuda = isinstance(frames, torch.Tensor) and frames.is_cuda
    if method == "torch" or (method == "auto" and cuda):
        return _torch_path(torch.as_tensor(frames), spec)
    return _ops_path(frames, spec)


def _from_list(frames: Sequence[Any], spec: ImageSpec, method: str) -> Any:
    import torch

    shapes = {tuple(f.shape) for f in frames}
    if len(shapes) == 1:
        stack = torch.stack(list(frames)) if isinstance(frames[0], torch.Tensor) else np.stack(frames)
        return pixel_values(stack, spec, method)
    return (
        torch.cat([pixel_values(f, spec, method) for f in frames])
        if frames
        else pixel_values(np.zeros((0, 1, 1, 3), np.uint8), spec, method)
    )


def _ops_path(frames: Any, spec: ImageSpec) -> Any:
    import torch

    from vidfast import ops

    _n, h, w, _ = frames.shape
    rh, rw = resized_shape(h, w, spec)
    resized = frames if (rh, rw) == (h, w) else ops.resize(frames, (rh, rw), interpolation="area")
    top, left = _crop_box(rh, rw, spec.size)
    crop = resized[:, top : top + spec.size, left : left + spec.size]
    crop = crop.contiguous() if isinstance(crop, torch.Tensor) else np.ascontiguousarray(crop)
    out = ops.normalize_to_chw(crop, (spec.size, spec.size), spec.mean, spec.std)
    return torch.from_numpy(out) if isinstance(out, np.ndarray) else out


def _torch_path(frames: Any, spec: ImageSpec) -> Any:
    import torch
    import torch.nn.functional as F

    _n, h, w, _ = frames.shape
    rh, rw = resized_shape(h, w, spec)
    x = frames.permute(0, 3, 1, 2).float()
    if (rh, rw) != (h, w):
        x = F.interpolate(x, size=(rh, rw), mode="bicubic", antialias=True, align_corners=False)
        x = x.round_().clamp_(0, 255)  # PIL resamples in uint8
    top, left = _crop_box(rh, rw, spec.size)
    x = x[:, :, top : top + spec.size, left : left + spec.size]
    mean = torch.tensor(spec.mean, device=x.device).view(1, 3, 1, 1) * 255
    std = torch.tensor(spec.std, device=x.device).view(1, 3, 1, 1) * 255
    return ((x - mean) / std).contiguous()
