"""Turning raw model text into validated JSON: first-JSON-value extraction, schema, item count."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from vidfast.llm.types import OutputSpec

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
    if got != spec.items:
        raise OutputInvalid(
            f"expected exactly {spec.items} item(s) in {spec.items_key or 'the answer'}, got {got}"
        )


def _check_words(items: list[Any], limits: dict[str, tuple[int, int]]) -> None:
    for i, item in enumerate(items):
        for name, (lo, hi) in limits.items():
            if not isinstance(item, dict) or name not in item:
                continue
            words = len(str(item[name]).split())
            if not lo <= words <= hi:
                raise OutputInvalid(f"item {i} field {name!r} has {words} words; the task needs {lo}-{hi}")


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
    """Validate a parsed answer: schema, exact item count, word limits, no copied '...' placeholders."""
    _check_count(value, spec)
    try:
        jsonschema.validate(value, spec.schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "<root>"
        raise OutputInvalid(f"schema violation at {where}: {exc.message[:200]}") from None
    _check_words(_items(value, spec), spec.word_limits)
    if not allow_placeholders:
        _check_placeholders(value)
    return value


def parse_answer(text: str, spec: OutputSpec | None) -> Any:
    """Parse and validate one raw answer; free-text tasks (``spec`` None) need a non-empty string."""
    if spec is None:
        if not text.strip():
            raise OutputInvalid("empty answer")
        return text.strip()
    return check_output(extract_json(text), spec)
