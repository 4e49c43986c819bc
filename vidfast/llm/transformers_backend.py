"""LLM backend on plain transformers (CPU or GPU): batched decoding with left padding and a shrinking batch.

JSON answers are grammar-constrained with llguidance (``vidfast.llm.grammar``): before every
sampling step each row's logits are masked to the tokens its own schema allows next, so a row
can only write JSON of its task's shape (bounded word counts, no free whitespace, no extra keys)
and it ends when its JSON value is complete. Without the ``llguidance`` package the backend falls
back to prompting plus a forced JSON prefix (``{"<first key>":`` written into the assistant turn),
stopping a row once its JSON value is complete; the shared validator then extracts the first JSON
value from the text (``grammar_engine()`` says which path runs).

The decode loop is vidfast's own rather than ``model.generate``: ``generate`` keeps computing every
row of a batch until the longest one ends (one run-away answer at ``max_tokens`` makes the whole
batch pay for it) and takes one temperature / top-p / seed per call. Here a finished row leaves
the batch at once (its KV-cache rows are dropped), and every row keeps its own temperature, top-p,
seed, frequency penalty and token budget, so different tasks and retries share batches and a
request samples the same tokens whether it runs alone or batched. The KV cache is preallocated
per batch (a step writes in place), and prompt prefixes are cached: the longest run of tokens that
every prompt of a task seen so far starts with (its system prompt and the fixed part of its user
template; the prompt files put the per-item data last) has its KV computed once and reused, so only
each prompt's own data is computed per request. Before a task's second prompt is seen, the templated
system prompt is the shared part.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from functools import partial
from typing import Any

import torch
from transformers.cache_utils import DynamicLayer

from vidfast.llm.base import LLMEngine
from vidfast.llm.grammar import GrammarError, JsonGrammar, apply_bitmask, grammar_engine
from vidfast.llm.models import ensure_hf_dir, resolve_model
from vidfast.llm.types import Completion, LLMRequest

_DECODER = json.JSONDecoder(strict=False)
NUCLEUS_HEAD = 256  # most likely tokens sorted for top-p sampling (the full vocabulary only when needed)
PREFIX_CACHE = 32  # prompt-prefix KV caches kept (least recently used dropped)


def common_prefix(a: tuple[int, ...], b: list[int] | tuple[int, ...]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def cpu_has_amx_bf16() -> bool:
    """True when this CPU multiplies bfloat16 matrices in hardware (Intel AMX; Linux /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return any(line.startswith("flags") and " amx_bf16" in line for line in f)
    except OSError:
        return False


def auto_dtype(device: str) -> torch.dtype:
    """``dtype: auto``: bfloat16 on a GPU, and on a CPU with AMX (batched steps about 3x faster than
    float32 there, measured on SmolLM2); float32 on other CPUs. In bfloat16 a request's tokens can
    depend on the batch it shares; in float32 they do not (the embedded preset pins float32)."""
    if device != "cpu":
        return torch.bfloat16
    return torch.bfloat16 if cpu_has_amx_bf16() else torch.float32


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


class PreallocatedLayer(DynamicLayer):
    """One layer's KV cache in a buffer with room for ``headroom`` more positions after the prompt.

    A decoding step writes its key/value in place and attention reads a view of the filled part;
    the stock ``DynamicLayer`` concatenates, copying the whole cache of every row at every step
    (for a batch of long prompts that copy, not the model, dominated a step on CPU).
    """

    def __init__(self, headroom: int) -> None:
        super().__init__()
        self.headroom = headroom
        self.length = 0

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        self.device = key_states.device
        b, h, n, d = key_states.shape
        self._k = key_states.new_empty(b, h, n + self.headroom, d)
        self._v = value_states.new_empty(b, value_states.shape[1], n + self.headroom, value_states.shape[-1])
        self.is_initialized = True

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        end = self.length + key_states.shape[-2]
        if end > self._k.shape[-2]:  # past the planned room: grow by another headroom
            grow = max(self.headroom, end - self._k.shape[-2])
            self._k = torch.cat([self._k, self._k.new_empty(*self._k.shape[:2], grow, self._k.shape[-1])], -2)
            self._v = torch.cat([self._v, self._v.new_empty(*self._v.shape[:2], grow, self._v.shape[-1])], -2)
        self._k[:, :, self.length : end] = key_states
        self._v[:, :, self.length : end] = value_states
        self.length = end
        self.keys, self.values = self._k[:, :, :end], self._v[:, :, :end]
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self.length

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.is_initialized:
            self._k, self._v = self._k[indices], self._v[indices]
            self.keys, self.values = self._k[:, :, : self.length], self._v[:, :, : self.length]


class _Rows:
    """Per-request decoding state of one batch (indexed by the request's row in the batch)."""

    def __init__(self, batch: list[LLMRequest], device: str, vocab: int, grammar: JsonGrammar | None) -> None:
        samp = [r.sampling for r in batch]
        # with a grammar each JSON row has its own matcher; without, a forced JSON prefix steers it
        self.matchers = [grammar.matcher(r.schema) if grammar and r.schema else None for r in batch]
        self.prefixes = ["" if grammar else json_prefix(r) for r in batch]
        self.errors: list[str | None] = [None] * len(batch)
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
        grammar: bool = True,
        **kwargs: Any,
    ) -> None:
        """``grammar``: constrain JSON answers with llguidance when it is installed (False: prompting only)."""
        super().__init__(max_retries=max_retries, **kwargs)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        self.batch_size = batch_size
        path = ensure_hf_dir(resolve_model(model))
        self.tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        torch_dtype = auto_dtype(self.device) if dtype == "auto" else getattr(torch, dtype)
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype).to(self.device).eval()
        self.model_path = path
        eos = self.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos]
        self.stop_ids = {int(t) for t in [*eos, self.tokenizer.eos_token_id] if t is not None}
        self._closers: torch.Tensor | None = None
        self._prefix_kv: OrderedDict[tuple[int, ...], list[tuple[torch.Tensor, torch.Tensor]]] = OrderedDict()
        self._heads: dict[str, tuple[int, ...]] = {}  # task -> tokens every prompt of it seen so far starts with
        vocab = self.model.get_output_embeddings().weight.shape[0]
        self.grammar = (
            JsonGrammar(self.tokenizer, vocab, sorted(self.stop_ids))
            if grammar and grammar_engine()
            else None
        )
        self.grammar_engine = grammar_engine() if self.grammar else None  # which engine constrains JSON

    def prompt_text(self, request: LLMRequest) -> str:
        """The chat-templated prompt (ending with the forced JSON prefix when there is no grammar)."""
        text = self.tokenizer.apply_chat_template(
            list(request.messages), tokenize=False, add_generation_prompt=True
        )
        return text if self.grammar else text + json_prefix(request)

    def _complete(self, requests: list[LLMRequest]) -> list[Completion]:
        out: list[Completion | None] = [None] * len(requests)
        runnable = []
        for i, r in enumerate(requests):
            try:
                if self.grammar and r.schema:
                    self.grammar.matcher(r.schema)  # compiled (and cached) up front: a bad schema fails alone
                runnable.append(i)
            except GrammarError as exc:
                out[i] = Completion("", error=str(exc))
        ids = {i: self.tokenize(requests[i]) for i in runnable}
        for i in runnable:  # learn each task's shared head from the whole call before splitting
            self._learn_head(requests[i].task, ids[i])
        encoded = {i: self.split(requests[i], ids[i]) for i in runnable}
        # Similar prompt lengths (after the shared system prompt) share a batch so padding stays
        # small; sampling settings differ freely within a batch (they are per row).
        order = sorted(runnable, key=lambda i: len(encoded[i][1]))
        for k in range(0, len(order), self.batch_size):
            idxs = order[k : k + self.batch_size]
            for i, comp in zip(
                idxs, self._run_batch([requests[i] for i in idxs], [encoded[i] for i in idxs])
            ):
                out[i] = comp
        return [c if c is not None else Completion("", error="not run") for c in out]

    def tokenize(self, request: LLMRequest) -> list[int]:
        """The token ids of the chat-templated prompt."""
        return self.tokenizer(self.prompt_text(request), add_special_tokens=False)["input_ids"]

    def _learn_head(self, task: str, ids: list[int]) -> None:
        head = self._heads.get(task)
        self._heads[task] = tuple(ids) if head is None else head[: common_prefix(head, ids)]

    def split(self, request: LLMRequest, ids: list[int]) -> tuple[tuple[int, ...], list[int]]:
        """``ids`` split into (shared prefix, rest): the prefix's KV cache is computed once and reused.

        The prefix is the task's learned head (the tokens all its prompts so far start with) when that
        is longer than the templated system message, else the system message; the whole prompt is the
        rest when neither splits cleanly (at least one token is always left to compute)."""
        head = self._heads.get(request.task, ())
        best: tuple[int, ...] = ()
        system = [m for m in request.messages[:1] if m["role"] == "system"]
        if system:
            text = self.tokenizer.apply_chat_template(system, tokenize=False, add_generation_prompt=False)
            prefix = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            if 0 < len(prefix) < len(ids) and ids[: len(prefix)] == prefix:
                best = tuple(prefix)
        if len(best) < len(head) < len(ids) and tuple(ids[: len(head)]) == head:
            best = head
        return best, ids[len(best) :]

    def _prefix_cache(self, prefix: tuple[int, ...]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer (keys, values) of ``prefix`` alone (batch 1), computed once and kept (LRU)."""
        kv = self._prefix_kv.get(prefix)
        if kv is None:
            from transformers import DynamicCache

            cache = DynamicCache()
            ids = torch.tensor([prefix], device=self.device)
            self.model(input_ids=ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
            kv = [(layer.keys, layer.values) for layer in cache.layers]
            self._prefix_kv[prefix] = kv
            while len(self._prefix_kv) > PREFIX_CACHE:
                self._prefix_kv.popitem(last=False)
        self._prefix_kv.move_to_end(prefix)
        return kv

    def _closer_mask(self, vocab: int) -> torch.Tensor:
        """Per token id: does its text hold ``}`` or ``]`` (only then can a JSON answer become complete)."""
        if self._closers is None or len(self._closers) != vocab:
            pieces = self.tokenizer.convert_ids_to_tokens(list(range(min(vocab, len(self.tokenizer)))))
            flags = [p is not None and ("}" in p or "]" in p) for p in pieces]
            self._closers = torch.tensor(flags + [False] * (vocab - len(flags)))
        return self._closers

    @torch.inference_mode()
    def _run_batch(
        self, batch: list[LLMRequest], encoded: list[tuple[tuple[int, ...], list[int]]]
    ) -> list[Completion]:
        from transformers import DynamicCache

        # Row layout: [padding][shared prefix, from its KV cache][padding][rest of the prompt]; the
        # attention mask hides the padding and positions count only real tokens.
        n = len(batch)
        plen, slen = [len(p) for p, _ in encoded], [len(r) for _, r in encoded]
        pmax, smax = max(plen), max(slen)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.full((n, smax), pad, dtype=torch.long)
        mask = torch.zeros(n, pmax + smax, dtype=torch.long)
        for i, (p, rest) in enumerate(encoded):
            input_ids[i, smax - len(rest) :] = torch.tensor(rest)
            mask[i, pmax - len(p) : pmax] = 1
            mask[i, pmax + smax - len(rest) :] = 1
        input_ids, mask = input_ids.to(self.device), mask.to(self.device)
        cache = DynamicCache()
        headroom = max(r.sampling.max_tokens for r in batch) + 1
        cache.layer_class_to_replicate = partial(PreallocatedLayer, headroom)
        if pmax:
            self._fill_prefixes(cache, [p for p, _ in encoded], pmax)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, pmax:]
        logits = self.model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,
        ).logits[:, -1, :]
        state = _Rows(batch, self.device, logits.shape[-1], self.grammar)
        closers = None if self.grammar else self._closer_mask(logits.shape[-1])
        bitmask = self.grammar.allocate(len(batch)) if any(m is not None for m in state.matchers) else None
        live = torch.arange(len(batch), device=self.device)  # batch row of each row still decoding
        next_pos = positions[:, -1] + 1
        while True:
            allowed = self._allowed(state, live, bitmask)
            tokens = self._sample(logits, live, state, allowed)
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
        tokens_in = [a + b for a, b in zip(plen, slen)]
        return [
            Completion(
                text=state.prefixes[i] + self.tokenizer.decode(state.tokens[i], skip_special_tokens=True),
                tokens_in=int(tokens_in[i]),
                tokens_out=len(state.tokens[i]),
                error=state.errors[i],
            )
            for i in range(len(batch))
        ]

    def _fill_prefixes(self, cache: Any, prefixes: list[tuple[int, ...]], width: int) -> None:
        """Put each row's prefix KV (right-aligned in ``width`` positions) into the batch cache."""
        kvs = [self._prefix_cache(p) if p else None for p in prefixes]
        first = next(kv for kv in kvs if kv is not None)
        for layer, (k0, v0) in enumerate(first):
            keys = k0.new_zeros(len(prefixes), k0.shape[1], width, k0.shape[3])
            values = v0.new_zeros(len(prefixes), v0.shape[1], width, v0.shape[3])
            for i, kv in enumerate(kvs):
                if kv is not None:
                    k, v = kv[layer]
                    keys[i, :, width - k.shape[2] :] = k[0]
                    values[i, :, width - v.shape[2] :] = v[0]
            cache.update(keys, values, layer)

    def _allowed(self, state: _Rows, live: torch.Tensor, bitmask: torch.Tensor | None) -> torch.Tensor | None:
        """Which tokens each live row may sample next (``(live, vocab)`` bools), or None when no row has a grammar."""
        if bitmask is None:
            return None
        rows = live.tolist()
        pairs = [(m, j) for j, i in enumerate(rows) if (m := state.matchers[i]) is not None]
        if not pairs:
            return None
        view = bitmask[: len(rows)]
        if len(pairs) < len(rows):
            view.fill_(-1)  # free-text rows: every token
        self.grammar.fill(pairs, view)
        return self.grammar.allowed(view)

    def _step(self, state: _Rows, i: int, token: int, closers: torch.Tensor | None) -> bool:
        """Record row ``i``'s new token; False once the row is finished (stop token, budget, JSON complete)."""
        if token in self.stop_ids:
            return False
        state.tokens[i].append(token)
        if state.counts is not None:
            state.counts[i, token] += 1
        matcher = state.matchers[i]
        if matcher is not None:
            if not matcher.consume_token(token):
                state.errors[i] = f"grammar rejected token {token}: {matcher.get_error()}"
                return False
            if matcher.is_stopped():  # the JSON value is complete (only a stop token could follow)
                return False
        if len(state.tokens[i]) >= state.budgets[i]:
            return False
        prefix = state.prefixes[i]
        if prefix and closers is not None and closers[token]:
            return not json_complete(
                prefix + self.tokenizer.decode(state.tokens[i], skip_special_tokens=True)
            )
        return True

    @staticmethod
    def _sample(
        logits: torch.Tensor, live: torch.Tensor, state: _Rows, allowed: torch.Tensor | None = None
    ) -> torch.Tensor:
        """One token per live row among its ``allowed`` ones: greedy at temperature 0, else temperature +
        top-p with the row's own generator."""
        x = logits.float()
        if state.counts is not None:
            x = x - state.penalty[live, None] * state.counts[live]
        if allowed is not None:
            x = apply_bitmask(x, allowed)
        tokens = x.argmax(-1)
        temps = state.temps[live]
        hot = (temps > 0).nonzero().flatten().tolist()
        if hot:
            sel = torch.tensor(hot, device=x.device)
            probs = (x[sel] / temps[sel, None]).softmax(-1)
            top_p = state.top_p[live[sel]]
            # The nucleus almost always lies in the few most likely tokens: sort only those, and
            # the whole vocabulary only for a row whose head holds less than its top_p.
            head, order = probs.topk(min(NUCLEUS_HEAD, probs.shape[-1]), -1)
            short = set((head.sum(-1) < top_p).nonzero().flatten().tolist())
            rows = live.tolist()
            for k, j in enumerate(hot):
                p, o = head[k], order[k]
                if k in short:
                    p, o = probs[k].sort(descending=True)
                # top-p: keep the smallest head whose mass reaches top_p (always at least the top token)
                p = p.masked_fill((p.cumsum(-1) - p) > top_p[k], 0.0)
                pick = torch.multinomial(p, 1, generator=state.generators[rows[j]])
                tokens[j] = o[pick[0]]
        return tokens
