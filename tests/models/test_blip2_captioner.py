"""``Blip2Captioner`` on the embedded tiny BLIP-2 (OPT): batching invariance, prompts, left padding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidfast.models.blip2 import Blip2Captioner, _left_align


def test_one_caption_per_frame(blip2_tiny: Blip2Captioner, frames: np.ndarray) -> None:
    captions = blip2_tiny.caption(list(frames[:5]), max_new_tokens=6)
    assert len(captions) == 5 and all(isinstance(c, str) for c in captions)
    assert blip2_tiny.caption([], max_new_tokens=6) == []


def test_batched_greedy_equals_unbatched(blip2_tiny: Blip2Captioner, frames: np.ndarray) -> None:
    batched = blip2_tiny.caption(list(frames[:6]), max_new_tokens=8)
    assert batched == [blip2_tiny.caption([f], max_new_tokens=8)[0] for f in frames[:6]]


def test_per_frame_prompts_are_left_padded(blip2_tiny: Blip2Captioner, frames: np.ndarray) -> None:
    prompts = ["describe the image in detail.", "a", None, "question: what is happening? answer:"]
    batched = blip2_tiny.caption(list(frames[:4]), prompt=prompts, max_new_tokens=6)
    single = [blip2_tiny.caption([f], prompt=p, max_new_tokens=6)[0] for f, p in zip(frames[:4], prompts)]
    assert batched == single


def test_shared_prompt_and_beams(blip2_tiny: Blip2Captioner, frames: np.ndarray) -> None:
    out = blip2_tiny.caption(frames[:2], prompt="a photo of", max_new_tokens=5, num_beams=2)
    assert len(out) == 2
    with pytest.raises(ValueError, match="2 frames but 1 prompts"):
        blip2_tiny.caption(frames[:2], prompt=["a"])


def test_input_layout(blip2_tiny: Blip2Captioner) -> None:
    inputs = blip2_tiny._inputs(["a dog", "a photo of a dog"])
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    n_query, image = blip2_tiny.model.config.num_query_tokens, blip2_tiny.image_token_id
    short = ids[0][mask[0].bool()]
    assert mask[0, 0] == 0 and mask[1].all()  # the shorter prompt is padded on the left
    assert (short[:n_query] == image).all() and short[n_query] == blip2_tiny.tokenizer.bos_token_id


def test_left_align() -> None:
    ids = torch.tensor([[7, 7, 5, 0, 0], [7, 7, 5, 6, 9]])
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    got_ids, got_mask = _left_align(ids, mask)
    assert got_ids.tolist() == [[0, 0, 7, 7, 5], [7, 7, 5, 6, 9]]
    assert got_mask.tolist() == [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]]


@pytest.mark.needs_cuda
def test_fp16_on_gpu(model_cache, frames: np.ndarray) -> None:
    gpu = Blip2Captioner("embedded:blip2-tiny", device="cuda", dtype="float16", batch_size=4)
    captions = gpu.caption(list(frames[:4]), max_new_tokens=6)
    assert len(captions) == 4 and all(isinstance(c, str) for c in captions)
