"""LLM backend on plain transformers (CPU or GPU): real batched generation with left padding.

It has no grammar engine, so JSON answers are steered by prompting plus a forced JSON prefix
(``{"<first key>":`` is written into the assistant turn), generation of a row stops as soon as its
JSON value is complete, and the shared validator extracts the first JSON value from the text.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import torch

from vidfast.llm.base import LLMEngine
from vidfast.llm.models import ensure_hf_dir, resolve_model
from vidfast.llm.types import Completion, LLMRequest

_DECODER = json.JSONDecoder(strict=False)


def json_prefix(request: LLMRequest) -> str:
    """The text forced at the start of the answer: ``{"<first required key>":`` for JSON tasks."""
    schema = request.schema
    if not schema or schema.get("type") != "object":
        return ""
    keys = schema.get("required") or list(schema.get("properties", {}))
    return f'{{"{keys[0]}":' if keys else "{"


def json_complete(text: str) -> bool:
    """True when ``text`` starts (after spaces) with one complete JSON object or array."""
    stripped = text.lstrip()
    if not stripped[:1] in ("{", "["):
        return False
    try:
        _DECODER.raw_decode(stripped)
    except json.JSONDecodeError:
        return False
    return True


class _StopWhenJsonDone:
    """Stopping criterion: a row is finished once its answer is a complete JSON value or hits its own budget."""

    def __init__(
        self, tokenizer: Any, prompt_len: int, prefixes: list[str], budgets: list[int], every: int = 4
    ) -> None:
        self.tokenizer, self.prompt_len, self.prefixes, self.every = tokenizer, prompt_len, prefixes, every
        self.budgets = torch.tensor(budgets)
        self.done = torch.zeros(len(prefixes), dtype=torch.bool)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        new = input_ids.shape[1] - self.prompt_len
        self.done |= self.budgets <= new
        if new % self.every == 0:
            texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_len :], skip_special_tokens=True)
            for i, (prefix, text) in enumerate(zip(self.prefixes, texts)):
                if prefix and not self.done[i] and json_complete(prefix + text):
                    self.done[i] = True
        return self.done.to(input_ids.device).clone()


class TransformersEngine(LLMEngine):
    """Batched generation with ``AutoModelForCausalLM`` (HF dirs, or the SmolLM2 GGUF via a cached copy)."""

    name = "transformers"

    def __init__(
        self,
        model: str | None = None,
        device: str = "auto",
        batch_size: int = 16,
        dtype: str = "auto",
        max_retries: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(max_retries=max_retries, **kwargs)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        self.batch_size = batch_size
        path = ensure_hf_dir(resolve_model(model))
        self.tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        torch_dtype = (
            (torch.bfloat16 if self.device != "cpu" else torch.float32)
            if dtype == "auto"
            else getattr(torch, dtype)
        )
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype).to(self.device).eval()
        self.model_path = path

    def prompt_text(self, request: LLMRequest) -> str:
        """The chat-templated prompt, ending with the forced JSON prefix."""
        text = self.tokenizer.apply_chat_template(
            list(request.messages), tokenize=False, add_generation_prompt=True
        )
        return text + json_prefix(request)

    def _complete(self, requests: list[LLMRequest]) -> list[Completion]:
        out: list[Completion | None] = [None] * len(requests)
        for idxs in self._batches(requests):
            for i, comp in zip(idxs, self._run_batch([requests[i] for i in idxs])):
                out[i] = comp
        return [c if c is not None else Completion("", error="not run") for c in out]

    def _batches(self, requests: list[LLMRequest]) -> list[list[int]]:
        # One generate() call takes one temperature/top_p (max_tokens is enforced per row by the
        # stopping criterion; a batch uses its first row's seed); within a group, similar lengths
        # share a batch so left padding stays small.
        groups: dict[tuple[float, float], list[int]] = defaultdict(list)
        for i, r in enumerate(requests):
            groups[(r.sampling.temperature, r.sampling.top_p)].append(i)
        batches = []
        for idxs in groups.values():
            idxs.sort(key=lambda i: sum(len(m["content"]) for m in requests[i].messages))
            batches += [idxs[k : k + self.batch_size] for k in range(0, len(idxs), self.batch_size)]
        return batches

    @torch.inference_mode()
    def _run_batch(self, batch: list[LLMRequest]) -> list[Completion]:
        s = batch[0].sampling
        prefixes = [json_prefix(r) for r in batch]
        budgets = [r.sampling.max_tokens for r in batch]
        enc = self.tokenizer(
            [self.prompt_text(r) for r in batch], return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.device)
        if s.seed is not None:
            torch.manual_seed(s.seed)
        prompt_len = enc["input_ids"].shape[1]
        gen = self.model.generate(
            **enc,
            max_new_tokens=max(r.sampling.max_tokens for r in batch),
            do_sample=s.temperature > 0,
            temperature=s.temperature if s.temperature > 0 else None,
            top_p=s.top_p if s.temperature > 0 else None,
            top_k=None,
            pad_token_id=self.tokenizer.pad_token_id,
            stopping_criteria=[_StopWhenJsonDone(self.tokenizer, prompt_len, prefixes, budgets)],
        )
        return [
            self._completion(
                gen[i, prompt_len : prompt_len + budgets[i]], enc["attention_mask"][i], prefixes[i]
            )
            for i in range(len(batch))
        ]

    def _completion(self, new_ids: torch.Tensor, mask: torch.Tensor, prefix: str) -> Completion:
        stop_ids = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id}
        n_out = next((k for k, t in enumerate(new_ids.tolist()) if t in stop_ids), len(new_ids))
        text = self.tokenizer.decode(new_ids[:n_out], skip_special_tokens=True)
        return Completion(text=prefix + text, tokens_in=int(mask.sum()), tokens_out=n_out)
