"""Prompt files (``prompts/<task>.yaml``): lookup, loading with placeholder checks, rendering.

A prompt file holds ``task``, ``inputs`` (the placeholder names the caller must supply), ``system``
and ``user`` templates using ``{name}`` placeholders (literal braces doubled), the answer
``schema``, ``items`` (exact count) with ``items_key`` (the array holding them, if any),
optional ``word_limits``, ``distinct`` (the ``items_key`` strings must differ from each other and
from the answer's other string fields, e.g. multiple-choice distractors; checked by the validator, so
a repeat is re-sampled), ``candidates`` (with ``distinct``: the model writes this many entries and the
first ``items`` distinct ones are kept, so a small model's repeat is dropped instead of re-sampled) and ``example`` (rendered into the reserved ``{format}`` placeholder), and
``sampling`` defaults (``temperature``, ``top_p``, ``max_tokens``, ``frequency_penalty``).

``word_limits`` (``{field: [min, max]}``, a field being a string property or an array of strings)
are compiled into the schema as a ``pattern`` (``word_pattern``), so a grammar-constrained backend
cannot write past the limit (a small model's repetition loop ends at ``max`` words instead of
running into ``max_tokens`` with the JSON unclosed) nor copy the example's ``"..."`` placeholder,
and every backend's validator checks the same rule.
"""

from __future__ import annotations

import copy
import json
import string
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from vidfast.errors import ConfigError
from vidfast.llm.types import LLMRequest, OutputSpec, Sampling
from vidfast.llm.validate import MAX_WORD_CHARS

RESERVED = frozenset({"format"})
_KEYS = {
    "task",
    "description",
    "inputs",
    "system",
    "user",
    "schema",
    "items",
    "items_key",
    "word_limits",
    "distinct",
    "candidates",
    "example",
    "sampling",
}


class PromptError(ConfigError):
    """A prompt file is malformed or a render call gave the wrong placeholders."""


def prompts_dir() -> Path:
    """The prompts folder: package data ``vidfast/_data/prompts`` first, then the repo's ``prompts/``."""
    pkg = Path(__file__).resolve().parents[1]
    for candidate in (pkg / "_data" / "prompts", pkg.parent / "prompts"):
        if candidate.is_dir():
            return candidate
    raise PromptError(
        f"no prompts folder: looked in {pkg / '_data' / 'prompts'} and {pkg.parent / 'prompts'}"
    )


def placeholders(template: str) -> set[str]:
    """Names of the ``{name}`` fields in a template (doubled braces are literals)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise PromptError(f"bad braces in template ({exc}); write literal braces as {{{{ and }}}}") from None


@dataclass(frozen=True)
class PromptSpec:
    """One LLM task's prompt: templates, declared inputs, output contract and sampling defaults."""

    task: str
    system: str
    user: str
    inputs: tuple[str, ...]
    output: OutputSpec | None
    sampling: Sampling
    example: Any = None
    description: str = ""
    source: str = ""

    def render(self, **values: Any) -> tuple[dict[str, str], ...]:
        """Chat messages with every placeholder filled; missing or unknown names raise PromptError."""
        given = set(values)
        missing, unknown = set(self.inputs) - given, given - set(self.inputs)
        if missing or unknown:
            raise PromptError(
                f"prompt {self.task!r} needs inputs {sorted(self.inputs)}; "
                f"missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        fill = {k: str(v) for k, v in values.items()}
        if self.example is not None:
            fill["format"] = json.dumps(self.example, ensure_ascii=False)
        msgs = (
            [{"role": "system", "content": self.system.format(**fill).strip()}] if self.system.strip() else []
        )
        msgs.append({"role": "user", "content": self.user.format(**fill).strip()})
        return tuple(msgs)

    def request(self, key: str = "", sampling: Sampling | None = None, **values: Any) -> LLMRequest:
        """A ready ``LLMRequest`` for this task (``sampling`` overrides the file's defaults)."""
        return LLMRequest(
            messages=self.render(**values),
            sampling=sampling or self.sampling,
            output=self.output,
            task=self.task,
            key=key,
        )


def _fail(source: str, msg: str) -> PromptError:
    return PromptError(f"{source}: {msg}")


def _check_templates(doc: dict[str, Any], source: str) -> tuple[str, ...]:
    inputs = tuple(doc.get("inputs") or ())
    used = placeholders(doc.get("system", "")) | placeholders(doc["user"])
    if unknown := used - set(inputs) - RESERVED:
        raise _fail(
            source, f"templates use undeclared placeholders {sorted(unknown)}; declared inputs {list(inputs)}"
        )
    if unused := set(inputs) - used:
        raise _fail(source, f"declared inputs {sorted(unused)} appear in no template")
    if "format" in used and doc.get("example") is None:
        raise _fail(source, "{format} is used but no `example` answer is given")
    return inputs


_WORD = r'[^\s"\\\x00-\x1f]'  # one character of a word: no space, quote, backslash or control character


def word_pattern(lo: int, hi: int) -> str:
    """Regex of a text of ``lo``..``hi`` words (``len(text.split())``) that starts with a letter or digit.

    Words are separated by single spaces, are at most ``MAX_WORD_CHARS`` long and hold no quote,
    backslash or control character, so the JSON-encoded text a grammar engine sees and the decoded
    string ``jsonschema`` checks are the same characters. vLLM's guidance (llguidance) backend
    compiles the bounded repetitions lazily; outlines expands them into an automaton that hits
    vLLM's 5 s compile timeout for limits of a few dozen words.
    """
    if not 1 <= lo <= hi:
        raise ValueError(f"word limits need 1 <= min <= max, got [{lo}, {hi}]")
    n = MAX_WORD_CHARS
    return f"^[^\\W_]{_WORD}{{0,{n - 1}}}( {_WORD}{{1,{n}}}){{{lo - 1},{hi - 1}}}$"


def with_word_patterns(schema: dict[str, Any], limits: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """A copy of ``schema`` whose string properties (or string-array items) named in ``limits`` carry
    the ``word_pattern``; raises KeyError naming a limit that matches no such property."""
    schema = copy.deepcopy(schema)
    found: set[str] = set()

    def visit(node: Any) -> None:
        if not isinstance(node, dict):
            return
        for name, prop in (node.get("properties") or {}).items():
            target = prop.get("items") if prop.get("type") == "array" else prop
            if name in limits and isinstance(target, dict) and target.get("type") == "string":
                target["pattern"] = word_pattern(*limits[name])
                target.pop("minLength", None)  # implied; grammar engines ignore lengths next to a pattern
                found.add(name)
            visit(prop)
        visit(node.get("items"))

    visit(schema)
    if missing := set(limits) - found:
        raise KeyError(sorted(missing))
    return schema


def _output_spec(doc: dict[str, Any], source: str) -> OutputSpec | None:
    schema = doc.get("schema")
    if schema is None:
        return None
    schema = copy.deepcopy(schema)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise _fail(source, f"invalid JSON schema: {exc.message}") from None
    items, key = int(doc.get("items", 1)), doc.get("items_key")
    candidates = int(doc["candidates"]) if doc.get("candidates") is not None else None
    if candidates is not None and (not doc.get("distinct") or candidates < items):
        raise _fail(source, f"candidates ({candidates}) needs distinct: true and at least items ({items})")
    if key is not None:
        arr = schema.get("properties", {}).get(key)
        if not arr or arr.get("type") != "array":
            raise _fail(source, f"items_key {key!r} is not an array property of the schema")
        arr["minItems"] = arr["maxItems"] = candidates or items  # one source of truth for the count
    limits = {k: (int(v[0]), int(v[1])) for k, v in (doc.get("word_limits") or {}).items()}
    distinct = bool(doc.get("distinct", False))
    if distinct and key is None:
        raise _fail(source, "distinct needs items_key (the array whose items must differ)")
    return OutputSpec(schema=schema, items=items, items_key=key, word_limits=limits, distinct=distinct,
                      candidates=candidates)


def _with_patterns(output: OutputSpec | None, source: str) -> OutputSpec | None:
    if output is None or not output.word_limits:
        return output
    try:
        return replace(output, schema=with_word_patterns(output.schema, output.word_limits))
    except KeyError as exc:
        raise _fail(source, f"word_limits {exc.args[0]} name no string (or string-array) property") from None
    except ValueError as exc:
        raise _fail(source, str(exc)) from None


def _check_example(spec: PromptSpec) -> None:
    # Checked before the word patterns are added: the example's "..." stands for text to write.
    if spec.example is None or spec.output is None:
        return
    from vidfast.llm.validate import OutputInvalid, check_output

    try:
        check_output(spec.example, replace(spec.output, word_limits={}), allow_placeholders=True)
    except OutputInvalid as exc:
        raise _fail(spec.source, f"the example answer does not fit the schema: {exc}") from None


def parse_prompt(doc: Any, source: str) -> PromptSpec:
    """Build and check a ``PromptSpec`` from a parsed YAML document."""
    if not isinstance(doc, dict) or "task" not in doc or "user" not in doc:
        raise _fail(source, "a prompt file is a mapping with at least `task` and `user`")
    if extra := set(doc) - _KEYS:
        raise _fail(source, f"unknown keys {sorted(extra)}; valid keys {sorted(_KEYS)}")
    inputs = _check_templates(doc, source)
    samp = doc.get("sampling") or {}
    spec = PromptSpec(
        task=doc["task"],
        system=doc.get("system", ""),
        user=doc["user"],
        inputs=inputs,
        output=_output_spec(doc, source),
        sampling=Sampling(**samp),
        example=doc.get("example"),
        description=doc.get("description", ""),
        source=source,
    )
    _check_example(spec)
    return replace(spec, output=_with_patterns(spec.output, source))


def load_prompt_file(path: str | Path) -> PromptSpec:
    """Load and check one prompt YAML file."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PromptError(f"cannot read prompt file {path}: {exc}") from None
    spec = parse_prompt(doc, str(path))
    if spec.task != path.stem:
        raise _fail(str(path), f"task {spec.task!r} must match the file name {path.stem!r}")
    return spec


def available_tasks(folder: Path | None = None) -> list[str]:
    """Names of every task with a prompt file."""
    return sorted(p.stem for p in (folder or prompts_dir()).glob("*.yaml"))


@cache
def load_prompt(task: str, folder: str | None = None) -> PromptSpec:
    """The checked ``PromptSpec`` of ``task`` (cached); unknown tasks list the valid ones."""
    base = Path(folder) if folder else prompts_dir()
    path = base / f"{task}.yaml"
    if not path.is_file():
        raise PromptError(f"no prompt for task {task!r} in {base}; available: {available_tasks(base)}")
    return load_prompt_file(path)
