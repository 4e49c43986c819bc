"""LLM backend on plain transformers (CPU or GPU): batched decoding with left padding and a shrinking batch.

It has no grammar engine, so JSON answers are steered by prompting plus a forced JSON prefix
(``{"<first key>":`` is written into the assistant turn), a row stops as soon as its JSON value is
complete, and the shared validator extracts the first JSON value from the text.

The decode loop is vidfast's own rather than ``model.generate``: ``generate`` keeps computing every
row of a batch until the longest one ends (one run-away answer at ``max_tokens`` makes the whole
batch pay for it) and takes one temperature / top-p / seed per call. Here a finished row leaves
the batch at once (its KV-cache rows are dropped), and every row keeps its own temperature, top-p,
seed, frequency penalty and token budget, so different tasks and retries share batches and a
request samples the same tokens whether it runs alone or batched.
"""

from __future__ import annotations

import json
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


class _Rows:
    """Per-request decoding state of one batch (indexed by the request's row in the batch)."""

    def __init__(self, batch: list[LLMRequest], device: str, vocab: int) -> None:
        samp = [r.sampling for r in batch]
        self.prefixes = [json_prefix(r) for r in batch]
        self.budgets = [s.max_tokens for s in samp]
        self.temps = torch.tensor([s.temperature for s in samp], device=device)
        self.top_p = torch.tensor([s.top_p for s in samp], device=device)
        self.penalty = torch.tensor([s.frequency_penalty for s in samp], device=device)
        self.counts = (
            torch.zeros(len(batch), vocab, device=device) if any(s.frequency_penalty for s in samp) else None
        )
        self.generators = []
        for s in samp:
            gen = torch.Generator(device=device)
            if s.seed is None:
                gen.seed()  # a fresh random seed, not the generator's fixed default
            else:
                gen.manual_seed(s.seed)
            self.generators.append(gen)
        self.tokens: list[list[int]] = [[] for _ in batch]


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
        eos = self.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos]
        self.stop_ids = {int(t) for t in [*eos, self.tokenizer.eos_token_id] if t is not None}
        self._closers: torch.Tensor | None = None

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
        # Similar prompt lengths share a batch so left padding stays small; sampling settings differ
        # freely within a batch (they are per row).
        lengths = [
            len(self.tokenizer(self.prompt_text(r), add_special_tokens=False)["input_ids"]) for r in requests
        ]
        order = sorted(range(len(requests)), key=lambda i: lengths[i])
        return [order[k : k + self.batch_size] for k in range(0, len(order), self.batch_size)]

    def _closer_mask(self, vocab: int) -> torch.Tensor:
        """Per token id: does its text hold ``}`` or ``]`` (only then can a JSON answer become complete)."""
        if self._closers is None or len(self._closers) != vocab:
            pieces = self.tokenizer.convert_ids_to_tokens(list(range(min(vocab, len(self.tokenizer)))))
            flags = [p is not None and ("}" in p or "]" in p) for p in pieces]
            self._closers = torch.tensor(flags + [False] * (vocab - len(flags)))
        return self._closers

    @torch.inference_mode()
    def _run_batch(self, batch: list[LLMRequest]) -> list[Completion]:
        enc = self.tokenizer(
            [self.prompt_text(r) for r in batch], return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.device)
        mask = enc["attention_mask"]
        positions = (mask.long().cumsum(-1) - 1).clamp(min=0)
        from transformers import DynamicCache

        cache = DynamicCache()
        logits = self.model(
            input_ids=enc["input_ids"],
            attention_mask=mask,
            position_ids=positions,
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,
        ).logits[:, -1, :]
        state = _Rows(batch, self.device, logits.shape[-1])
        closers = self._closer_mask(logits.shape[-1])
        live = torch.arange(len(batch), device=self.device)  # batch row of each row still decoding
        next_pos = positions[:, -1] + 1
        while True:
            tokens = self._sample(logits, live, state)
            keep = [
                j
                for j, (i, t) in enumerate(zip(live.tolist(), tokens.tolist()))
                if self._step(state, i, t, closers)
            ]
            if not keep:
                break
            if len(keep) < len(live):
                idx = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(idx)
                live, mask, next_pos, tokens = live[idx], mask[idx], next_pos[idx], tokens[idx]
            mask = torch.cat([mask, mask.new_ones(len(keep), 1)], dim=1)
            logits = self.model(
                input_ids=tokens[:, None],
                attention_mask=mask,
                position_ids=next_pos[:, None],
                past_key_values=cache,
                use_cache=True,
            ).logits[:, -1, :]
            next_pos = next_pos + 1
        tokens_in = enc["attention_mask"].sum(-1).tolist()
        return [
            Completion(
                text=state.prefixes[i] + self.tokenizer.decode(state.tokens[i], skip_special_tokens=True),
                tokens_in=int(tokens_in[i]),
                tokens_out=len(state.tokens[i]),
            )
            for i in range(len(batch))
        ]

    def _step(self, state: _Rows, i: int, token: int, closers: torch.Tensor) -> bool:
        """Record row ``i``'s new token; False once the row is finished (stop token, budget, JSON complete)."""
        if token in self.stop_ids:
            return False
        state.tokens[i].append(token)
        if state.counts is not None:
            state.counts[i, token] += 1
        if len(state.tokens[i]) >= state.budgets[i]:
            return False
        prefix = state.prefixes[i]
        if prefix and closers[token]:
            return not json_complete(
                prefix + self.tokenizer.decode(state.tokens[i], skip_special_tokens=True)
            )
        return True

    @staticmethod
    def _sample(logits: torch.Tensor, live: torch.Tensor, state: _Rows) -> torch.Tensor:
        """One token per live row: greedy at temperature 0, else temperature + top-p with the row's own generator."""
        x = logits.float()
        if state.counts is not None:
            x = x - state.penalty[live, None] * state.counts[live]
        tokens = x.argmax(-1)
        temps = state.temps[live]
        hot = (temps > 0).nonzero().flatten().tolist()
        if hot:
            sel = torch.tensor(hot, device=x.device)
            scaled = x[sel] / temps[sel, None]
            sorted_logits, order = scaled.sort(-1, descending=True)
            probs = sorted_logits.softmax(-1)
            # top-p: keep the smallest head whose mass reaches top_p (always at least the top token)
            drop = (probs.cumsum(-1) - probs) > state.top_p[live[sel], None]
            probs = probs.masked_fill(drop, 0.0)
            rows = live.tolist()
            for k, j in enumerate(hot):
                pick = torch.multinomial(probs[k], 1, generator=state.generators[rows[j]])
                tokens[j] = order[k, pick[0]]
        return tokens
