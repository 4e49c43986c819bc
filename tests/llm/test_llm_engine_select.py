"""Backend selection: auto, explicit choices, and errors that say why and how to install."""

from __future__ import annotations

import importlib.util

import pytest

from vidfast.errors import BackendUnavailable, ConfigError
from vidfast.llm import backend_report, pick_backend

HAS_VLLM = importlib.util.find_spec("vllm") is not None


def test_report_lists_every_backend():
    report = backend_report()
    assert set(report) == {"vllm", "transformers", "openai"}
    assert report["transformers"] is None and report["openai"] is None


def test_auto_picks_transformers_without_vllm():
    assert pick_backend("auto") == ("vllm" if HAS_VLLM else "transformers")
    assert pick_backend("openai-http") == "openai"


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed in this interpreter")
def test_explicit_unavailable_backend_says_why_and_how():
    with pytest.raises(BackendUnavailable, match=r"vllm: not installed.*setup_vllm_cpu\.sh"):
        pick_backend("vllm")


def test_unknown_backend_lists_choices(monkeypatch):
    with pytest.raises(ConfigError, match="choose one of auto, vllm, transformers, openai"):
        pick_backend("tgi")
    monkeypatch.setenv("VIDFAST_LLM_BACKEND", "transformers")
    assert pick_backend(None) == "transformers"


def test_vllm_prefix_order_groups_shared_prefixes():
    from vidfast.llm.prompts import load_prompt
    from vidfast.llm.vllm_backend import prefix_order

    qa, judge = load_prompt("summary_qa"), load_prompt("judge_correctness")
    reqs = [
        qa.request(caption="b"),
        judge.request(question="q", answer="a", prediction="p"),
        qa.request(caption="a"),
    ]
    order = prefix_order(reqs)
    assert order == [1, 2, 0]  # the two summary_qa requests (same system prompt) are adjacent


def test_auto_dtype_takes_bfloat16_where_the_hardware_multiplies_it(monkeypatch) -> None:
    torch = pytest.importorskip("torch")
    from vidfast.llm import transformers_backend as tb

    assert tb.auto_dtype("cuda") == torch.bfloat16
    monkeypatch.setattr(tb, "cpu_has_amx_bf16", lambda: True)
    assert tb.auto_dtype("cpu") == torch.bfloat16
    monkeypatch.setattr(tb, "cpu_has_amx_bf16", lambda: False)
    assert tb.auto_dtype("cpu") == torch.float32
