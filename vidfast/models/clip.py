"""``ClipEncoder``: batched CLIP image and text embeddings (projected ``image_embeds``/``text_embeds``).

Backends (``vidfast.backends`` family ``vision``): ``torch`` (transformers, the reference; fp16 or
bf16 on GPU) and ``onnxruntime`` (each tower exported once to ONNX with a dynamic batch — and a
dynamic sequence for text — and cached); ``tensorrt`` (engines built from those ONNX exports,
``vidfast.models.tensorrt``; unavailable, with its reason, where TensorRT is not installed); and the
torch twins ``torch-compile`` / ``torch-cudagraphs`` (``torch.compile``, CUDA graphs on CUDA).
Embeddings are returned unnormalised, as the original pipeline used them (seed-spec §2.3, §2.6).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from vidfast import backends
from vidfast.config import ModelsConfig
from vidfast.errors import BackendUnavailable
from vidfast.models import loader
from vidfast.models.manifest import manifest_for
from vidfast.models.preprocess import ImageSpec, pixel_values, spec_for

BACKENDS = ("auto", "torch", "torch-compile", "torch-cudagraphs", "onnxruntime", "tensorrt")
# torch.compile modes of the torch twins of the TensorRT engines (batches padded to one static shape)
COMPILE_MODES = {"torch-compile": "default", "torch-cudagraphs": "reduce-overhead"}


def _towers() -> tuple[type, type]:
    import torch

    class VisionTower(torch.nn.Module):
        """pixel_values [B,3,S,S] -> projected image embeddings [B,D]."""

        def __init__(self, clip: Any) -> None:
            super().__init__()
            self.vision_model, self.projection = clip.vision_model, clip.visual_projection

        def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
            return self.projection(self.vision_model(pixel_values=pixel_values).pooler_output)

    class TextTower(torch.nn.Module):
        """input_ids, attention_mask [B,L] -> projected text embeddings [B,D] (pooled at the EOS token)."""

        def __init__(self, clip: Any) -> None:
            super().__init__()
            self.text_model, self.projection = clip.text_model, clip.text_projection

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            out = self.text_model(input_ids=input_ids, attention_mask=attention_mask)
            return self.projection(out.pooler_output)

    return VisionTower, TextTower


def pick_backend(backend: str, device: str, dtype: Any) -> str:
    """The CLIP backend to run: an explicit one if usable (else ``BackendUnavailable`` saying why), or for
    ``auto`` onnxruntime for float32 on CPU (measured faster, same output within 1e-6) and torch otherwise.
    ``torch-compile`` / ``torch-cudagraphs`` are the torch backend with ``torch.compile`` (the latter
    with CUDA graphs, CUDA only); ``tensorrt`` runs engines built from the ONNX exports."""
    import torch

    if backend not in BACKENDS:
        raise BackendUnavailable(f"unknown CLIP backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if backend == "auto":
        cpu_fp32 = not device.startswith("cuda") and dtype == torch.float32
        ort_ok = any(b.name == "onnxruntime" and b.reason() is None for b in backends.family("vision"))
        return "onnxruntime" if cpu_fp32 and ort_ok else "torch"
    if backend in COMPILE_MODES:
        backends.choose("vision", "torch")
        if backend == "torch-cudagraphs" and not device.startswith("cuda"):
            raise BackendUnavailable("backend torch-cudagraphs needs models.device=cuda; use torch-compile on CPU")
        return backend
    return backends.choose("vision", backend).name  # raises with the reason when unavailable


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


class ClipEncoder:
    """CLIP image/text encoder over ``ref`` (HF id, local directory or ``embedded:clip-tiny``).

    ``device``/``dtype`` follow ``ModelsConfig`` (``auto``: CUDA + float16 when a GPU is visible).
    ``backend``: ``auto`` (onnxruntime for float32 on CPU, else torch), ``torch``, ``onnxruntime``; ``preprocess``: ``auto``/``ops``/``torch``
    (see ``vidfast.models.preprocess``); ``ort_threads``: onnxruntime intra-op threads (0: its default).
    """

    def __init__(
        self,
        ref: str = "openai/clip-vit-large-patch14",
        *,
        device: str = "auto",
        dtype: str = "auto",
        backend: str = "auto",
        batch_size: int = 64,
        preprocess: str = "auto",
        allow_hub: bool = False,
        onnx_opset: int | None = None,
        ort_threads: int = 0,
    ) -> None:
        from transformers import CLIPModel

        device = loader.resolve_device(device)
        torch_dtype = loader.resolve_dtype(dtype, device)
        backend = pick_backend(backend, device, torch_dtype)  # fail before loading anything
        model_dir = loader.resolve_model_dir(ref, allow_hub)
        manifest = manifest_for(ref)
        model = loader.load_model(ref, CLIPModel, device, torch_dtype, allow_hub)
        self._attach(
            model,
            loader.load_tokenizer(ref, allow_hub),
            spec_for(manifest, model_dir),
            backend=backend,
            batch_size=batch_size,
            preprocess=preprocess,
        )
        self.ref, self.model_dir = ref, model_dir
        self.opset = int(onnx_opset or (manifest.export.get("opset", 17) if manifest else 17))
        self.ort_threads = int(ort_threads)

    def _attach(
        self, model: Any, tokenizer: Any, spec: ImageSpec, *, backend: str, batch_size: int, preprocess: str
    ) -> None:
        self.model, self.tokenizer, self.spec = model.eval(), tokenizer, spec
        self.device, self.dtype = str(model.device), model.dtype
        self.backend, self.batch_size, self.preprocess = (
            pick_backend(backend, str(model.device), model.dtype),
            int(batch_size),
            preprocess,
        )
        self.max_length = int(model.config.text_config.max_position_embeddings)
        vision, text = _towers()
        self.vision, self.text = vision(model).eval(), text(model).eval()
        if self.backend in COMPILE_MODES:
            import torch

            self.vision = torch.compile(self.vision, mode=COMPILE_MODES[self.backend], dynamic=False)
        self._ort: dict[str, Any] = {}
        self.ref, self.model_dir, self.opset, self.ort_threads = "in-memory", None, 17, 0

    @classmethod
    def from_model(
        cls, model: Any, tokenizer: Any, spec: ImageSpec, *, batch_size: int = 64, preprocess: str = "auto"
    ) -> ClipEncoder:
        """Wrap an already-built ``CLIPModel`` (e.g. random full-size weights for a benchmark); torch only."""
        encoder = cls.__new__(cls)
        encoder._attach(model, tokenizer, spec, backend="torch", batch_size=batch_size, preprocess=preprocess)
        return encoder

    @classmethod
    def from_config(cls, config: ModelsConfig, **kwargs: Any) -> ClipEncoder:
        """An encoder for ``config.clip`` on ``config.device`` in ``config.dtype``."""
        return cls(config.clip, device=config.device, dtype=config.dtype, **kwargs)

    @property
    def dim(self) -> int:
        """Width of the projected embeddings."""
        return int(self.model.config.projection_dim)

    def encode_images(self, frames: Any) -> np.ndarray:
        """uint8 RGB frames ``[N,H,W,3]`` (numpy/torch, or a list of ``[H,W,3]``) -> float32 ``[N,D]``."""
        n = len(frames)
        out = np.empty((n, self.dim), np.float32)
        for part in _batches(n, self.batch_size):
            out[part] = self._image_batch(pixel_values(frames[part], self.spec, self.preprocess))
        return out

    def encode_pixels(self, pixels: Any) -> np.ndarray:
        """Already-preprocessed ``[N,3,S,S]`` pixel values -> float32 ``[N,D]`` (one forward per batch)."""
        out = np.empty((len(pixels), self.dim), np.float32)
        for part in _batches(len(pixels), self.batch_size):
            out[part] = self._image_batch(pixels[part])
        return out

    def encode_texts(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Captions or prompts -> float32 ``[N,D]`` (truncated to the model's 77-token context);
        ``batch_size`` overrides the encoder's (e.g. for a whole tag vocabulary of short prompts)."""
        texts = list(texts)
        out = np.empty((len(texts), self.dim), np.float32)
        for part in _batches(len(texts), batch_size or self.batch_size):
            enc = self.tokenizer(
                texts[part], padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
            )
            out[part] = self._text_batch(enc["input_ids"], enc["attention_mask"])
        return out

    def _image_batch(self, pixels: Any) -> np.ndarray:
        import torch

        if self.backend == "onnxruntime":
            return self._ort_tower("vision").run(pixel_values=pixels.cpu().numpy())
        if self.backend == "tensorrt":
            x = pixels.to(self.device, self.dtype, non_blocking=True)
            return self._trt_tower("vision").run(pixel_values=x).float().cpu().numpy()
        with torch.inference_mode():
            x = pixels.to(self.device, self.dtype, non_blocking=True)
            n = len(x)
            if self.backend in COMPILE_MODES and n < self.batch_size:  # one static shape: pad the tail batch
                x = torch.cat([x, x[-1:].expand(self.batch_size - n, *x.shape[1:])])
            return self.vision(x)[:n].float().cpu().numpy()

    def _text_batch(self, input_ids: Any, attention_mask: Any) -> np.ndarray:
        import torch

        if self.backend == "onnxruntime":
            return self._ort_tower("text").run(
                input_ids=input_ids.numpy(), attention_mask=attention_mask.numpy()
            )
        if self.backend == "tensorrt":
            ids, mask = input_ids.to(self.device), attention_mask.to(self.device)
            return self._trt_tower("text").run(input_ids=ids, attention_mask=mask).float().cpu().numpy()
        with torch.inference_mode():
            return self.text(input_ids.to(self.device), attention_mask.to(self.device)).float().cpu().numpy()

    def _ort_tower(self, tower: str) -> Any:
        if tower not in self._ort:
            from vidfast.models.onnx_export import OrtTower

            self._ort[tower] = OrtTower(self.export_onnx(tower), self.device, self.ort_threads)
        return self._ort[tower]

    def _trt_tower(self, tower: str) -> Any:
        """The TensorRT engine of ``tower``: its profile spans batch 1 .. the encoder's batch size
        (vision; opt = full batches) and 1 .. 77 tokens (text)."""
        key = "trt-" + tower
        if key not in self._ort:
            from vidfast.models.tensorrt import engine_for_onnx

            self._ort[key] = engine_for_onnx(
                self.export_onnx(tower), tower, self.device, batch_sizes=(1, self.batch_size)
            )
        return self._ort[key]

    def export_onnx(self, tower: str) -> Any:
        """Path of the cached ONNX file of ``tower`` (``vision`` or ``text``), exporting it if missing."""
        import torch

        from vidfast.models import onnx_export

        if self.model_dir is None:
            raise BackendUnavailable(
                "ONNX export needs a model loaded from a directory (ClipEncoder(ref)), "
                "not one wrapped with from_model"
            )
        precision = str(self.dtype).removeprefix("torch.")
        key = onnx_export.model_key(self.ref.removeprefix("embedded:"), self.model_dir)
        path = onnx_export.onnx_path(key, tower, precision, self.opset)
        if path.is_file():
            return path
        if tower == "vision":
            example = (
                torch.zeros(2, 3, self.spec.size, self.spec.size, dtype=self.dtype, device=self.device),
            )
            names, axes = ["pixel_values"], {"pixel_values": {0: "batch"}}
            module = self.vision
        else:
            ids = self.tokenizer(["a photo", "a photo of a dog"], padding=True, return_tensors="pt")
            example = (ids["input_ids"].to(self.device), ids["attention_mask"].to(self.device))
            names = ["input_ids", "attention_mask"]
            axes = {n: {0: "batch", 1: "sequence"} for n in names}
            module = self.text
        return onnx_export.export_onnx(module, example, path, names, axes, self.opset)
