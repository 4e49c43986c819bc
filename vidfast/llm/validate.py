"""Turning raw model text into validated JSON: first-JSON-value extraction, schema, item count."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from vidfast.llm.types import OutputSpec

# Longest word in a word-limited field: longer "words" are run-together text (a,b,c or a-b-c-...)
# with which a small model dodges the word count.
MAX_WORD_CHARS = 30
_DECODER = json.JSONDecoder(strict=False)  # models emit raw tabs/newlines inside strings
_FENCE = re.compile(r"```(?:json)?", re.IGNORECASE)


class OutputInvalid(ValueError):
    """The model's answer is not usable; the message says why (kept in ``LLMResult.error``)."""


def extract_json(text: str) -> Any:
    """The first complete JSON object or array in ``text`` (code fences and chatter around it ignored)."""
    cleaned = _FENCE.sub("", text)
    for match in re.finditer(r"[\[{]", cleaned):
        try:
            value, _ = _DECODER.raw_decode(cleaned, match.start())
        except json.JSONDecodeError:
            continue
        return value
    raise OutputInvalid(f"no complete JSON value in the answer ({len(text)} chars): {text[:120]!r}")


def _items(value: Any, spec: OutputSpec) -> list[Any]:
    if spec.items_key is None:
        return [value]
    return value[spec.items_key]


def _check_count(value: Any, spec: OutputSpec) -> None:
    # Checked before the schema so a wrong count gets a plain message, not a minItems dump.
    if spec.items_key is not None and not (
        isinstance(value, dict) and isinstance(value.get(spec.items_key), list)
    ):
        return  # the schema check reports the missing or mistyped array
    got = len(_items(value, spec))
    if got != spec.written:
        raise OutputInvalid(
            f"expected exactly {spec.written} item(s) in {spec.items_key or 'the answer'}, got {got}"
        )


def _norm(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".")


def _check_distinct(value: Any, spec: OutputSpec) -> Any:
    """``spec.distinct``: the string items differ from each other and from the other string fields.

    Without ``candidates`` a repeat is invalid. With them, repeats are dropped and the first
    ``items`` distinct entries are kept (the answer is returned with that shorter list); too few
    distinct ones is invalid."""
    if not spec.distinct or not isinstance(value, dict) or not isinstance(value.get(spec.items_key), list):
        return value
    seen = {_norm(v): k for k, v in value.items() if k != spec.items_key and isinstance(v, str)}
    kept, repeats = [], []
    for item in value[spec.items_key]:
        key = _norm(item) if isinstance(item, str) else None
        if key is not None and key in seen:
            other = seen[key]
            repeats.append(f"{item!r} repeats {'another item' if other == spec.items_key else 'the ' + other}")
            if spec.candidates is None:
                raise OutputInvalid(f"{spec.items_key} item {repeats[0]}")
            continue
        if key is not None:
            seen[key] = spec.items_key
        kept.append(item)
    if spec.candidates is None:
        return value
    if len(kept) < spec.items:
        raise OutputInvalid(f"{spec.items_key}: {len(kept)} distinct of {spec.candidates} candidates, "
                            f"{spec.items} needed ({'; '.join(repeats)})")
    return {**value, spec.items_key: kept[: spec.items]}


def _check_words(value: Any, limits: dict[str, tuple[int, int]]) -> None:
    """Word counts of every field named in ``limits`` (a string, or each string of a list), anywhere in the answer."""
    if not limits:
        return

    def visit(node: Any, where: str) -> None:
        if isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, f"item {i} ")
            return
        if not isinstance(node, dict):
            return
        for name, v in node.items():
            if name in limits:
                lo, hi = limits[name]
                texts = [v] if isinstance(v, str) else v if isinstance(v, list) else []
                for text in (t for t in texts if isinstance(t, str)):
                    words = text.split()
                    if not lo <= len(words) <= hi:
                        raise OutputInvalid(
                            f"{where}field {name!r} has {len(words)} words; the task needs {lo}-{hi}"
                        )
                    if longest := max((w for w in words if len(w) > MAX_WORD_CHARS), key=len, default=None):
                        raise OutputInvalid(
                            f"{where}field {name!r} has a {len(longest)}-character word ({longest[:40]!r}...); "
                            f"words are at most {MAX_WORD_CHARS} characters"
                        )
            visit(v, where)

    visit(value, "")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for v in value for s in _strings(v)] if isinstance(value, list) else []


def _check_placeholders(value: Any) -> None:
    # Small models copy the "..." of the format example instead of writing text.
    if any(not any(c.isalnum() for c in s) for s in _strings(value)):
        raise OutputInvalid(
            "a text field has no words (empty, '...' copied from the example, or symbols only)"
        )


def check_output(value: Any, spec: OutputSpec, allow_placeholders: bool = False) -> Any:
    """Validate a parsed answer: exact item count, word limits, no copied '...' placeholders, schema,
    distinct items (returns the answer, with ``candidates`` trimmed to the first distinct ``items``).

    The word limits are also ``pattern``s of the schema (see ``prompts.word_pattern``); they and
    the placeholders are checked first so the error names the rule instead of quoting a regex.
    """
    _check_count(value, spec)
    _check_words(value, spec.word_limits)
    if not allow_placeholders:
        _check_placeholders(value)
    try:
        jsonschema.validate(value, spec.schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "<root>"
        raise OutputInvalid(f"schema violation at {where}: {exc.message[:200]}") from None
    if not allow_placeholders:
        value = _check_distinct(value, spec)
    return value


def parse_answer(text: str, spec: OutputSpec | None) -> Any:
    """Parse and validate one raw answer; free-text tasks (``spec`` None) need a non-empty string."""
    if spec is None:
        if not text.strip():
            raise OutputInvalid("empty answer")
        return text.strip()
    return check_output(extract_json(text), spec)
