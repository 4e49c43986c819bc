"""Prompt files: every task loads, renders and has a valid schema; loader errors are clear."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from vidfast.llm.prompts import (
    PromptError,
    available_tasks,
    load_prompt,
    load_prompt_file,
    parse_prompt,
    placeholders,
    prompts_dir,
    word_pattern,
)

REQUIRED_TASKS = {
    "summary_qa",
    "summary_qa_semi",
    "description_qa",
    "description_qa_semi",
    "creative_qa",
    "detailed_description_qa",
    "dense_caption_summary",
    "benchmark_generic_qa",
    "benchmark_temporal_qa",
    "benchmark_consistency_qa",
    "judge_correctness",
    "judge_detail_orientation",
    "judge_context",
    "judge_temporal",
    "judge_consistency",
    "judge_zero_shot",
    "clip_caption_condense",
    "videochat_description",
    "videochat_conversation",
    "videochat2_instructions",
    "videochat2_mcq",
    "videochat2_mcq_distractors",
    "answer_cleanup",
}


def _doc(**over):
    doc = {
        "task": "t",
        "inputs": ["caption"],
        "system": "You help.",
        "user": "Caption: {caption}\n{format}",
        "schema": {"type": "object", "properties": {"Q": {"type": "string"}}, "required": ["Q"]},
        "example": {"Q": "..."},
        "sampling": {"temperature": 0.2, "max_tokens": 32},
    }
    doc.update(over)
    return doc


def test_prompts_dir_is_repo_prompts():
    assert prompts_dir().name == "prompts"
    assert (prompts_dir() / "summary_qa.yaml").is_file()


def test_every_task_has_a_prompt():
    assert REQUIRED_TASKS <= set(available_tasks())


@pytest.mark.parametrize("task", sorted(REQUIRED_TASKS))
def test_prompt_loads_renders_and_schema_is_valid(task):
    spec = load_prompt(task)
    assert spec.task == task and spec.sampling.max_tokens > 0
    jsonschema.Draft202012Validator.check_schema(spec.output.schema)
    messages = spec.render(**{name: f"<{name} text>" for name in spec.inputs})
    assert messages[-1]["role"] == "user"
    text = " ".join(m["content"] for m in messages)
    for name in spec.inputs:
        assert f"<{name} text>" in text
    assert "{" in text  # the rendered format example
    if spec.output.items_key:
        arr = spec.output.schema["properties"][spec.output.items_key]
        assert arr["minItems"] == arr["maxItems"] == spec.output.written


def test_item_counts_follow_the_tasks():
    counts = {
        t: load_prompt(t).output.items
        for t in ("summary_qa", "description_qa", "creative_qa", "videochat2_instructions")
    }
    assert counts == {"summary_qa": 3, "description_qa": 3, "creative_qa": 1, "videochat2_instructions": 10}
    assert load_prompt("detailed_description_qa").output.word_limits["A"] == (150, 300)
    assert load_prompt("clip_caption_condense").output.word_limits == {"caption": (1, 30)}


def test_request_carries_task_key_and_sampling():
    req = load_prompt("judge_zero_shot").request(key="v1#0", question="q", answer="a", prediction="p")
    assert (req.task, req.key, req.sampling.temperature) == ("judge_zero_shot", "v1#0", 0.0)
    assert req.schema["properties"]["pred"]["enum"] == ["yes", "no"]


def test_render_missing_and_unknown_inputs():
    spec = load_prompt("summary_qa")
    with pytest.raises(PromptError, match=r"missing \['caption'\]"):
        spec.render()
    with pytest.raises(PromptError, match=r"unknown \['captoin'\]"):
        spec.render(caption="x", captoin="y")


def test_braces_in_values_are_kept_literally():
    msgs = load_prompt("summary_qa").render(caption="a {weird} caption {x}")
    assert "a {weird} caption {x}" in msgs[-1]["content"]


@pytest.mark.parametrize(
    "over, match",
    [
        ({"user": "Caption: {caption} {other}\n{format}"}, r"undeclared placeholders \['other'\]"),
        ({"inputs": ["caption", "extra"]}, r"declared inputs \['extra'\] appear in no template"),
        ({"user": "Caption: {caption\n{format}"}, "bad braces"),
        ({"example": None}, "no `example`"),
        ({"example": {"R": "..."}}, "example answer does not fit"),
        ({"schema": {"type": "object", "properties": {"Q": {"type": "strin"}}}}, "invalid JSON schema"),
        ({"items_key": "qa", "items": 3}, "not an array property"),
        ({"colour": "red"}, r"unknown keys \['colour'\]"),
        ({"candidates": 5}, r"candidates \(5\) needs distinct: true"),
        ({"word_limits": {"R": [1, 5]}}, r"word_limits \['R'\] name no string"),
        ({"word_limits": {"Q": [0, 5]}}, r"word limits need 1 <= min <= max"),
    ],
)
def test_malformed_prompt_files_are_rejected(over, match):
    with pytest.raises(PromptError, match=match):
        parse_prompt(_doc(**over), "test.yaml")


def test_file_name_must_match_task_and_unknown_task(tmp_path: Path):
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(_doc()))
    with pytest.raises(PromptError, match="must match the file name"):
        load_prompt_file(path)
    with pytest.raises(PromptError, match="available:"):
        load_prompt("no_such_task")


def test_placeholders_ignores_doubled_braces():
    assert placeholders("{a} {{literal}} {b}") == {"a", "b"}


# Upper bound of SmolLM2 tokens per word of English prose, plus the JSON around each text field.
TOKENS_PER_WORD, TOKENS_PER_FIELD = 1.5, 6


def _text_fields(schema, mult=1):
    """(name, multiplicity, schema) of every string field, string-array item included."""
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("type") == "array":
            n = prop.get("maxItems", 1) * mult
            item = prop["items"]
            if item.get("type") == "string":
                yield name, n, item
            else:
                yield from _text_fields(item, n)
        elif prop.get("type") == "string":
            yield name, mult, prop


@pytest.mark.parametrize("task", sorted(REQUIRED_TASKS))
def test_every_text_field_is_bounded_and_fits_max_tokens(task):
    """A grammar-constrained backend can neither copy the example's '...' nor run past max_tokens.

    Every free-text field has word limits (compiled into the schema pattern), and the worst case of
    all limits together fits in the task's max_tokens, so the JSON always closes.
    """
    spec = load_prompt(task)
    budget = 8
    for name, mult, prop in _text_fields(spec.output.schema):
        if "enum" in prop:
            continue
        lo, hi = spec.output.word_limits[name]
        assert prop["pattern"] == word_pattern(lo, hi)
        budget += mult * (TOKENS_PER_WORD * hi + TOKENS_PER_FIELD)
    assert spec.sampling.max_tokens >= budget, (task, spec.sampling.max_tokens, budget)


def test_word_pattern_matches_the_word_count_rule():
    import re

    pat = word_pattern(2, 4)
    for text, ok in [
        ("one", False),
        ("one two", True),
        ("A man rides away.", True),
        ("one two three four five", False),
        ("...", False),
        ("... then words", False),
        ("two  spaces", False),
        ("x" * 30 + " y", True),
        ("x" * 31 + " y", False),
        ('say "hi" now', False),
    ]:
        assert bool(re.search(pat, text)) is ok, text
