"""Prompt files (``prompts/<task>.yaml``): lookup, loading with placeholder checks, rendering.

A prompt file holds ``task``, ``inputs`` (the placeholder names the caller must supply), ``system``
and ``user`` templates using ``{name}`` placeholders (literal braces doubled), the answer
``schema``, ``items`` (exact count) with ``items_key`` (the array holding them, if any),
optional ``word_limits`` and ``example`` (rendered into the reserved ``{format}`` placeholder), and
``sampling`` defaults (``temperature``, ``top_p``, ``max_tokens``).
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
    if key is not None:
        arr = schema.get("properties", {}).get(key)
        if not arr or arr.get("type") != "array":
            raise _fail(source, f"items_key {key!r} is not an array property of the schema")
        arr["minItems"] = arr["maxItems"] = items  # one source of truth for the count
    limits = {k: (int(v[0]), int(v[1])) for k, v in (doc.get("word_limits") or {}).items()}
    return OutputSpec(schema=schema, items=items, items_key=key, word_limits=limits)


def _check_example(spec: PromptSpec) -> None:
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
    return spec


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
