"""Answer parsing, schema/item-count validation and the bounded retry loop (canned fake backend)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vidfast.llm.base import LLMEngine
from vidfast.llm.prompts import load_prompt
from vidfast.llm.types import Completion, LLMRequest, Sampling
from vidfast.llm.validate import OutputInvalid, check_output, extract_json, parse_answer

QA3 = '{"qa": [{"Q": "a?", "A": "b"}, {"Q": "c?", "A": "d"}, {"Q": "e?", "A": "f"}]}'
QA2 = '{"qa": [{"Q": "a?", "A": "b"}, {"Q": "c?", "A": "d"}]}'


class CannedEngine(LLMEngine):
    """Returns scripted answers per request key and attempt; records every batch it was given."""

    name = "canned"

    def __init__(self, script: dict[str, list[str | None]], **kwargs) -> None:
        super().__init__(**kwargs)
        self.script, self.batches, self.seen = script, [], {}

    def _complete(self, requests: list[LLMRequest]) -> list[Completion]:
        self.batches.append([(r.key, r.sampling) for r in requests])
        out = []
        for r in requests:
            n = self.seen.get(r.key, 0)
            self.seen[r.key] = n + 1
            text = self.script[r.key][min(n, len(self.script[r.key]) - 1)]
            out.append(Completion("", error="connection reset") if text is None else Completion(text, 10, 5))
        return out


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"a": 1}', {"a": 1}),
        ('Sure! Here it is:\n```json\n{"a": [1, 2]}\n```\nHope it helps.', {"a": [1, 2]}),
        ('{"a": "tab\there"} trailing {"b": 2}', {"a": "tab\there"}),
        ('[1, 2] then {"a": 1}', [1, 2]),
        ('{broken {"a": 1}', {"a": 1}),
    ],
)
def test_extract_json_takes_first_complete_value(text, expected):
    assert extract_json(text) == expected


@pytest.mark.parametrize("text", ["", "no json here", '{"a": 1', '```json\n{"a": \n```'])
def test_extract_json_errors(text):
    with pytest.raises(OutputInvalid, match="no complete JSON"):
        extract_json(text)


def test_check_output_schema_count_words_placeholders():
    qa = load_prompt("summary_qa").output
    assert check_output(extract_json(QA3), qa)["qa"][2]["A"] == "f"
    with pytest.raises(OutputInvalid, match=r"expected exactly 3 item\(s\) in qa, got 2"):
        check_output(extract_json(QA2), qa)
    with pytest.raises(OutputInvalid, match=r"schema violation at qa/\d: 'A' is a required"):
        check_output({"qa": [{"Q": "x"}] * 3}, qa)
    with pytest.raises(OutputInvalid, match="has no words"):
        check_output({"qa": [{"Q": "x?", "A": "..."}] * 3}, qa)
    cond = load_prompt("clip_caption_condense").output
    with pytest.raises(OutputInvalid, match="31 words; the task needs 1-30"):
        check_output({"caption": " ".join(["w"] * 31)}, cond)
    judge = load_prompt("judge_zero_shot").output
    with pytest.raises(OutputInvalid, match="schema violation at score"):
        check_output({"pred": "yes", "score": 7}, judge)


def test_free_text_needs_non_empty_answer():
    assert parse_answer("  hello ", None) == "hello"
    with pytest.raises(OutputInvalid, match="empty"):
        parse_answer("   ", None)


def _reqs(*keys: str) -> list[LLMRequest]:
    spec = load_prompt("summary_qa")
    return [spec.request(key=k, sampling=Sampling(temperature=0.3, seed=1), caption=f"cap {k}") for k in keys]


def test_only_failed_requests_are_rebatched_with_a_fresh_sample():
    engine = CannedEngine({"ok": [QA3], "late": ["nope", QA2, QA3], "bad": ["x"]}, max_retries=2)
    results = engine.generate(_reqs("ok", "late", "bad"))
    assert [[k for k, _ in b] for b in engine.batches] == [
        ["ok", "late", "bad"],
        ["late", "bad"],
        ["late", "bad"],
    ]
    temps = [s.temperature for _, s in (b[0] for b in engine.batches)]
    seeds = {s.seed for b in engine.batches for _, s in b}
    assert temps == pytest.approx([0.3, 0.5, 0.7]) and len(seeds) == 3
    ok, late, bad = results
    assert ok.ok and ok.attempts == 1 and len(ok.data["qa"]) == 3
    assert late.ok and late.attempts == 3 and late.tokens_out == 15
    assert not bad.ok and bad.attempts == 3 and bad.text == "x" and "no complete JSON" in bad.error
    stats = engine.stats["summary_qa"]
    assert (stats.first_try_valid, stats.valid_after_retries, stats.failed, stats.attempts) == (1, 1, 1, 7)


def test_item_count_failure_is_recorded_not_dropped():
    engine = CannedEngine({"short": [QA2]}, max_retries=1)
    (res,) = engine.generate(_reqs("short"))
    assert not res.ok and res.attempts == 2 and res.text == QA2 and res.data is None
    assert res.error == "expected exactly 3 item(s) in qa, got 2"


def test_no_retries_and_backend_errors():
    engine = CannedEngine({"down": [None, QA3]}, max_retries=0)
    (res,) = engine.generate(_reqs("down"))
    assert not res.ok and res.attempts == 1 and res.error == "backend error: connection reset"
    engine = CannedEngine({"down": [None, QA3]}, max_retries=1)
    assert engine.generate(_reqs("down"))[0].ok


def test_results_keep_request_order_and_empty_input():
    engine = CannedEngine({k: [QA3] for k in "abc"})
    assert [r.key for r in engine.generate(_reqs("c", "a", "b"))] == ["c", "a", "b"]
    assert engine.generate([]) == []
    with pytest.raises(ValueError, match="max_retries"):
        CannedEngine({}, max_retries=-1)


def test_stats_shares():
    engine = CannedEngine({"a": [QA3], "b": ["x", QA3]})
    engine.generate(_reqs("a", "b"))
    d = engine.stats_dict()["summary_qa"]
    assert d["first_try_valid_share"] == 0.5 and d["valid_share"] == 1.0


def test_word_limits_reach_string_arrays_and_long_words():
    mcq = load_prompt("videochat2_mcq").output
    ok = {
        "question": "What is he holding?",
        "answer": "a red umbrella",
        "distractors": ["a bag", "a hat", "a cup", "a pen", "a box"],
    }
    assert check_output(ok, mcq) == {**ok, "distractors": ["a bag", "a hat", "a cup"]}
    with pytest.raises(OutputInvalid, match=r"field 'distractors' has 13 words; the task needs 1-12"):
        check_output({**ok, "distractors": ["a bag", " ".join(["w"] * 13), "a cup", "a pen", "a box"]}, mcq)
    cond = load_prompt("clip_caption_condense").output
    with pytest.raises(OutputInvalid, match=r"has a 48-character word .*at most 30 characters"):
        check_output({"caption": "A " + "-".join(["jack"] * 8) + "-and-more"}, cond)
    with pytest.raises(OutputInvalid, match=r"schema violation at caption: .* does not match"):
        check_output({"caption": "(a dog) runs"}, cond)  # must start with a letter or digit


def test_distinct_items_are_required_where_the_prompt_asks() -> None:
    spec = load_prompt("videochat2_mcq").output
    assert spec.distinct and spec.candidates == 5 and spec.items == 3
    assert spec.schema["properties"]["distractors"]["minItems"] == 5  # the model writes every candidate
    ok = {"question": "What moves?", "answer": "a red square",
          "distractors": ["a blue disc", "a dog", "a car", "a tree", "a cup"]}
    assert check_output(ok, spec) == {**ok, "distractors": ["a blue disc", "a dog", "a car"]}
    # repeats (of each other or of the answer, case/spacing/full stop ignored) are dropped, order kept
    repeats = {**ok, "distractors": ["a blue disc", "A Blue disc.", "A red square", "a car", "a cup"]}
    assert check_output(repeats, spec)["distractors"] == ["a blue disc", "a car", "a cup"]
    too_few = {**ok, "distractors": ["a blue disc", "A Blue disc.", "a red square", "a car", "a car"]}
    with pytest.raises(OutputInvalid, match=r"2 distinct of 5 candidates, 3 needed .*repeats the answer"):
        check_output(too_few, spec)
    with pytest.raises(OutputInvalid, match="expected exactly 5 item"):
        check_output({**ok, "distractors": ok["distractors"][:3]}, spec)
    # without candidates any repeat is invalid
    strict = replace(spec, candidates=None, schema={**spec.schema, "properties": {
        **spec.schema["properties"], "distractors": {**spec.schema["properties"]["distractors"],
                                                     "minItems": 3, "maxItems": 3}}})
    with pytest.raises(OutputInvalid, match="repeats another item"):
        check_output({**ok, "distractors": ["a blue disc", "A Blue disc.", "a car"]}, strict)
    with pytest.raises(OutputInvalid, match="repeats the answer"):
        check_output({**ok, "distractors": ["a blue disc", "A red square", "a car"]}, strict)
    # a prompt whose items may repeat is not affected
    qa = load_prompt("summary_qa").output
    assert not qa.distinct
