"""Grammar-constrained decoding for vidfast's own decode loop: per-row JSON-schema token masks (llguidance).

``JsonGrammar`` holds what is built once per engine (llguidance's view of the tokenizer, a thread
pool for the masks) and each schema's compiled matcher, built once and copied per request. Per
decoding step ``fill`` writes the allowed-token bitmask of every grammar-constrained row into one
int32 tensor (in parallel, rows with different schemas in one call) and ``apply_bitmask`` sets the
logits of disallowed tokens to ``-inf`` in one vectorised torch operation.

The JSON is compact and strict: ``", "`` and ``": "`` separators (the layout of the prompts'
``{format}`` examples), no whitespace elsewhere, no raw control characters in strings (JSON
forbids them; ``json.loads`` in strict mode parses every answer) and no properties the schema
does not declare. vLLM's ``guidance`` structured-output backend is the same engine with the same
two restrictions (``vllm_backend.structured_config``).
"""

from __future__ import annotations

import copy
import importlib.util
import json
from typing import Any

import torch

ENGINE = "llguidance"
INSTALL = "pip install llguidance"
_JSON_OPTIONS = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


def grammar_engine() -> str | None:
    """The grammar engine the transformers backend uses here (``llguidance``), or None when it is absent."""
    return ENGINE if importlib.util.find_spec(ENGINE) is not None else None


def closed_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` in which every object without an ``additionalProperties`` rule allows no extra keys."""
    schema = copy.deepcopy(schema)

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for v in node:
                visit(v)
            return
        if not isinstance(node, dict):
            return
        if node.get("type") == "object" or "properties" in node:
            node.setdefault("additionalProperties", False)
        for v in node.values():
            visit(v)

    visit(schema)
    return schema


def schema_key(schema: dict[str, Any]) -> str:
    """The cache key of a schema (its canonical JSON)."""
    return json.dumps(schema, sort_keys=True)


class GrammarError(ValueError):
    """A schema the grammar engine cannot compile (the message carries the engine's reason)."""


class JsonGrammar:
    """llguidance matchers for JSON schemas over one tokenizer.

    ``hf_tokenizer`` must be a fast (Rust) tokenizer; ``vocab`` is the model's logits width (it may
    exceed the tokenizer's size); ``stop_ids`` end an answer (allowed once the JSON is complete).
    """

    def __init__(
        self, hf_tokenizer: Any, vocab: int, stop_ids: list[int], threads: int | None = None
    ) -> None:
        import llguidance
        import llguidance.hf

        self._ll = llguidance
        self.vocab = vocab
        # ~1 s for a 49k vocabulary: built once per engine
        self.tokenizer = llguidance.hf.from_tokenizer(hf_tokenizer, n_vocab=vocab, eos_token=sorted(stop_ids))
        self.executor = llguidance.LLExecutor(threads)
        self.words = (vocab + 31) // 32
        self._compiled: dict[str, Any] = {}

    def matcher(self, schema: dict[str, Any]) -> Any:
        """A fresh matcher for ``schema`` (the schema is compiled on first use, then copied)."""
        key = schema_key(schema)
        template = self._compiled.get(key)
        if template is None:
            grammar = self._ll.LLMatcher.grammar_from_json_schema(
                closed_schema(schema), defaults=_JSON_OPTIONS
            )
            template = self._ll.LLMatcher(self.tokenizer, grammar, log_level=0)
            if template.is_error():
                raise GrammarError(f"{ENGINE} cannot compile the answer schema: {template.get_error()}")
            self._compiled[key] = template
        return template.deep_copy()

    def allocate(self, rows: int) -> torch.Tensor:
        """A CPU int32 bitmask for ``rows`` rows, every token allowed."""
        return torch.full((rows, self.words), -1, dtype=torch.int32)

    def fill(self, matchers: list[tuple[Any, int]], bitmask: torch.Tensor) -> None:
        """Write the next-token mask of each ``(matcher, row)`` into ``bitmask[row]`` (rows in parallel)."""
        if matchers:
            self.executor.unsafe_compute_mask_ptr(
                matchers, bitmask.data_ptr(), self.words * 4, bitmask.shape[0]
            )

    def allowed(self, bitmask: torch.Tensor) -> torch.Tensor:
        """The boolean ``(rows, vocab)`` form of a bitmask from ``fill``."""
        return unpack_bitmask(bitmask, self.vocab)


_BITS = torch.arange(32, dtype=torch.int32)


def unpack_bitmask(bitmask: torch.Tensor, vocab: int) -> torch.Tensor:
    """``(rows, words)`` int32 -> ``(rows, vocab)`` bools: token ``t`` is bit ``t % 32`` of word ``t // 32``."""
    bits = (bitmask[:, :, None] >> _BITS.to(bitmask.device)) & 1
    return bits.reshape(bitmask.shape[0], -1)[:, :vocab].bool()


def apply_bitmask(logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """``logits`` with every disallowed token at ``-inf`` (a new tensor; ``allowed`` is moved to its device)."""
    return logits.masked_fill(~allowed.to(logits.device), float("-inf"))
