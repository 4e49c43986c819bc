"""The vLLM backend's CPU defaults and structured-output settings (pure functions; vLLM not needed)."""

from __future__ import annotations

import pytest

from vidfast.llm import vllm_backend as vb


def test_dtype_auto_is_float32_on_cpus_without_native_bf16(monkeypatch):
    monkeypatch.setattr(vb, "cpu_has_native_bf16", lambda: False)
    assert vb.resolve_dtype("auto", on_cpu=True) == "float32"
    assert vb.resolve_dtype("bfloat16", on_cpu=True) == "bfloat16"  # an explicit choice is kept
    assert vb.resolve_dtype("auto", on_cpu=False) == "auto"  # GPUs: vLLM decides
    monkeypatch.setattr(vb, "cpu_has_native_bf16", lambda: True)
    assert vb.resolve_dtype("auto", on_cpu=True) == "auto"


def test_structured_config_forbids_free_whitespace_and_extra_keys():
    assert vb.structured_config("guidance") == {
        "backend": "guidance",
        "disable_any_whitespace": True,
        "disable_additional_properties": True,
    }
    assert vb.structured_config("xgrammar") == {"backend": "xgrammar", "disable_any_whitespace": True}
    assert vb.structured_config("outlines") == {"backend": "outlines"}  # rejects both flags


@pytest.mark.parametrize(
    "cores, env, expected",
    [
        (2, {}, {"VLLM_CPU_NUM_OF_RESERVED_CPU": "0"}),
        (64, {}, {}),
        (2, {"VLLM_CPU_OMP_THREADS_BIND": "0"}, {}),
        (2, {"VLLM_CPU_NUM_OF_RESERVED_CPU": "1"}, {}),
    ],
)
def test_small_machines_give_the_worker_every_core(monkeypatch, cores, env, expected):
    for name in ("VLLM_CPU_OMP_THREADS_BIND", "VLLM_CPU_NUM_OF_RESERVED_CPU"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(vb.os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert vb.cpu_thread_env() == expected
