"""``Blip2Captioner``: batched BLIP-2 frame captions (OPT or Flan-T5 language model).

The prompt is built here rather than by ``Blip2Processor``: ``num_query_tokens`` image placeholder
tokens (``config.image_token_index``) followed by the tokenised prompt (with the tokenizer's own
special tokens: OPT's leading ``</s>``, T5's trailing ``</s>``). That layout is what
``Blip2ForConditionalGeneration.generate`` expects for both language models, and it works with
checkpoints whose saved processor predates ``num_query_tokens``. Per-frame prompts of different
lengths are left-padded, so decoder-only generation continues from the real last token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vidfast.config import ModelsConfig
from vidfast.errors import ConfigError
from vidfast.models import loader
from vidfast.models.manifest import manifest_for
from vidfast.models.preprocess import ImageSpec, pixel_values, spec_for


class Blip2Captioner:
    """BLIP-2 captioner over ``ref`` (HF id, local directory or ``embedded:blip2-tiny``).

    ``caption`` takes frames (the caller chooses which frames per scene) and returns one caption per
    frame. ``device``/``dtype`` follow ``ModelsConfig`` (``auto``: CUDA + float16 when a GPU is visible).
    """

    def __init__(
        self,
        ref: str = "Salesforce/blip2-opt-2.7b",
        *,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 16,
        preprocess: str = "auto",
        allow_hub: bool = False,
        compile_mode: str = "off",
    ) -> None:
        from transformers import Blip2ForConditionalGeneration

        torch_device = loader.resolve_device(device)
        model_dir = loader.resolve_model_dir(ref, allow_hub)
        model = loader.load_model(
            ref,
            Blip2ForConditionalGeneration,
            torch_device,
            loader.resolve_dtype(dtype, torch_device),
            allow_hub,
        )
        self._attach(
            model,
            loader.load_tokenizer(ref, allow_hub),
            spec_for(manifest_for(ref), model_dir),
            batch_size=batch_size,
            preprocess=preprocess,
        )
        self.ref, self.model_dir = ref, model_dir
        self.compile_vision(compile_mode)

    def _attach(
        self, model: Any, tokenizer: Any, spec: ImageSpec, *, batch_size: int, preprocess: str
    ) -> None:
        self.model, self.tokenizer, self.spec = model.eval(), tokenizer, spec
        self.device, self.dtype = str(model.device), model.dtype
        self.batch_size, self.preprocess = int(batch_size), preprocess
        self.tokenizer.padding_side = "left"
        self.ref, self.model_dir = "in-memory", None
        self.image_token_id = self._image_token_id()
        self.decoder_only = not model.config.text_config.is_encoder_decoder

    @classmethod
    def from_model(
        cls, model: Any, tokenizer: Any, spec: ImageSpec, *, batch_size: int = 16, preprocess: str = "auto"
    ) -> Blip2Captioner:
        """Wrap an already-built ``Blip2ForConditionalGeneration`` (e.g. random full-size weights)."""
        captioner = cls.__new__(cls)
        captioner._attach(model, tokenizer, spec, batch_size=batch_size, preprocess=preprocess)
        return captioner

    @classmethod
    def from_config(cls, config: ModelsConfig, **kwargs: Any) -> Blip2Captioner:
        """A captioner for ``config.blip2`` on ``config.device`` in ``config.dtype``."""
        return cls(config.blip2, device=config.device, dtype=config.dtype, **kwargs)

    def compile_vision(self, mode: str = "off") -> None:
        """``torch.compile`` the vision tower (ViT) and the Q-Former: ``off``, ``default`` or
        ``reduce-overhead`` (CUDA graphs; CUDA only). The torch twin of a TensorRT visual engine."""
        import torch

        if mode == "off":
            return
        if mode not in ("default", "reduce-overhead"):
            raise ConfigError(f"unknown BLIP-2 compile mode {mode!r}; valid: off, default, reduce-overhead")
        if mode == "reduce-overhead" and not self.device.startswith("cuda"):
            raise ConfigError("compile=reduce-overhead (CUDA graphs) needs the model on CUDA")
        self.model.vision_model = torch.compile(self.model.vision_model, mode=mode, dynamic=False)
        self.model.qformer = torch.compile(self.model.qformer, mode=mode, dynamic=False)

    def export_visual_onnx(self, path: Any, opset: int = 17) -> Any:
        """Export pixel_values ``[batch,3,S,S]`` -> language-model input embeddings ``[batch,Q,D]``
        (vision tower + Q-Former + language projection), the part a TensorRT visual engine runs."""
        import torch

        from vidfast.models.onnx_export import export_onnx

        model = self.model

        class Visual(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.vision_model, self.qformer = model.vision_model, model.qformer
                self.query_tokens, self.language_projection = model.query_tokens, model.language_projection

            def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
                image = self.vision_model(pixel_values=pixel_values).last_hidden_state
                queries = self.query_tokens.expand(image.shape[0], -1, -1)
                mask = torch.ones(image.shape[:-1], dtype=torch.long, device=image.device)
                out = self.qformer(query_embeds=queries, encoder_hidden_states=image, encoder_attention_mask=mask)
                return self.language_projection(out.last_hidden_state)

        size = self.spec.size
        example = (torch.zeros(2, 3, size, size, dtype=self.dtype, device=self.device),)
        return export_onnx(Visual().eval(), example, path, ["pixel_values"], {"pixel_values": {0: "batch"}}, opset)

    def _image_token_id(self) -> int:
        token_id = getattr(self.model.config, "image_token_index", None)
        if token_id is None:
            raise ConfigError(
                f"{self.ref}: the model config has no image_token_index; this checkpoint predates "
                "transformers' BLIP-2 image tokens — download a current revision of the model"
            )
        return int(token_id)

    def caption(
        self,
        frames: Any,
        prompt: str | Sequence[str] | None = None,
        max_new_tokens: int = 30,
        num_beams: int = 1,
        **generate_kwargs: Any,
    ) -> list[str]:
        """One caption per uint8 RGB frame (``list`` of ``[H,W,3]`` or an ``[N,H,W,3]`` array).

        ``prompt``: ``None`` (plain captioning), one prompt for every frame, or one per frame. Greedy
        decoding when ``num_beams == 1``; ``generate_kwargs`` go to ``generate`` (e.g. ``min_new_tokens``).
        """
        n = len(frames)
        prompts = [prompt] * n if prompt is None or isinstance(prompt, str) else list(prompt)
        if len(prompts) != n:
            raise ValueError(f"caption: got {n} frames but {len(prompts)} prompts")
        captions: list[str] = []
        for start in range(0, n, self.batch_size):
            part = slice(start, min(start + self.batch_size, n))
            pixels = pixel_values(frames[part], self.spec, self.preprocess)
            kwargs = {"max_new_tokens": max_new_tokens, "num_beams": num_beams, **generate_kwargs}
            captions += self._generate(pixels, prompts[part], kwargs)
        return captions

    def _inputs(self, prompts: Sequence[str | None]) -> dict[str, Any]:
        import torch

        texts = [p or "" for p in prompts]
        enc = self.tokenizer(texts, padding=True, return_tensors="pt")
        n_query = int(self.model.config.num_query_tokens)
        image = torch.full((len(texts), n_query), self.image_token_id, dtype=enc["input_ids"].dtype)
        ids = torch.cat([image, enc["input_ids"]], dim=1)
        mask = torch.cat([torch.ones_like(image), enc["attention_mask"]], dim=1)
        if self.tokenizer.padding_side == "left":  # keep pads in front of the image tokens
            ids, mask = _left_align(ids, mask)
        return {"input_ids": ids.to(self.device), "attention_mask": mask.to(self.device)}

    def _generate(self, pixels: Any, prompts: Sequence[str | None], kwargs: dict[str, Any]) -> list[str]:
        import torch

        inputs = self._inputs(prompts)
        with torch.inference_mode():
            out = self.model.generate(
                pixel_values=pixels.to(self.device, self.dtype), **inputs, do_sample=False, **kwargs
            )
        if self.decoder_only:
            out = out[:, inputs["input_ids"].shape[1] :]
        return [text.strip() for text in self.tokenizer.batch_decode(out, skip_special_tokens=True)]


def _left_align(ids: Any, mask: Any) -> tuple[Any, Any]:
    """Move each row's padding (mask 0) to the front, keeping the order of the real tokens."""
    import torch

    order = torch.argsort(mask, dim=1, stable=True)  # zeros (pads) first, then ones in original order
    return torch.gather(ids, 1, order), torch.gather(mask, 1, order)
