"""Plain records passed to and returned by every LLM backend."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Sampling:
    """Sampling settings of one request (the subset every backend understands).

    ``frequency_penalty`` (OpenAI/vLLM semantics) lowers a token's logit by the penalty times the
    number of times it already appears in the answer - only the answer, not the prompt, so
    retelling the caption is not penalised while a small model's repetition loop is.
    """

    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 256
    seed: int | None = None
    frequency_penalty: float = 0.0

    def bumped(self, attempt: int, step: float, cap: float = 1.0) -> Sampling:
        """Settings for retry ``attempt`` (1, 2, ...): hotter and with a fresh seed, so the sample differs."""
        seed = (self.seed or 0) + 7919 * attempt  # a fixed, different seed per attempt
        return replace(self, temperature=min(cap, self.temperature + step * attempt), seed=seed)


@dataclass(frozen=True)
class OutputSpec:
    """What a valid answer looks like: a JSON schema, an exact item count and optional word limits.

    ``items_key`` names the array in the answer object that must hold exactly ``items`` entries;
    when it is None the answer object itself is the one item. ``word_limits`` maps a field name
    (looked up in the object, or in every array item) to ``(min_words, max_words)``.
    """

    schema: dict[str, Any]
    items: int = 1
    items_key: str | None = None
    word_limits: dict[str, tuple[int, int]] = field(default_factory=dict)
    # the string items must differ from each other and from the answer's other string fields
    # (case and spacing ignored): e.g. multiple-choice distractors that repeat each other or the answer
    distinct: bool = False
    # with ``distinct``: the model writes this many candidates (>= items) and the validator keeps the
    # first ``items`` distinct ones, so one repeated candidate does not cost a whole re-sample
    candidates: int | None = None

    @property
    def written(self) -> int:
        """How many entries the model writes into ``items_key`` (``candidates``, else ``items``)."""
        return self.candidates or self.items


@dataclass(frozen=True)
class LLMRequest:
    """One chat completion to run: messages (``system``/``user``), sampling, expected output."""

    messages: tuple[dict[str, str], ...]
    sampling: Sampling = Sampling()
    output: OutputSpec | None = None
    task: str = "free_text"
    key: str = ""

    @property
    def schema(self) -> dict[str, Any] | None:
        """The JSON schema of the answer, or None for free text."""
        return None if self.output is None else self.output.schema


@dataclass
class Completion:
    """What a backend returns for one request and one attempt (before validation)."""

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    error: str | None = None


@dataclass
class LLMResult:
    """The final outcome of one request after validation and retries.

    ``data`` is the parsed, validated JSON (None on failure or for free text); ``text`` is the raw
    text of the last attempt, kept so a failure can be inspected; ``error`` is None when valid.
    """

    key: str
    task: str
    text: str = ""
    data: Any = None
    tokens_in: int = 0
    tokens_out: int = 0
    attempts: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the answer passed validation."""
        return self.error is None
