"""``ZeroShotTagger`` on the embedded tiny CLIP: the tag a frame embedding matches is returned, the
threshold / top-k rule, the vocabularies, and the cached text embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidfast.errors import ConfigError
from vidfast.models.clip import ClipEncoder
from vidfast.models.tagger import ZeroShotTagger
from vidfast.semiauto import TAG2TEXT_DELETED


@pytest.fixture(scope="module")
def tagger(clip_tiny: ClipEncoder) -> ZeroShotTagger:
    return ZeroShotTagger(clip_tiny, "tag2text", threshold=0.2, top_k=4)


def test_an_image_embedding_built_to_match_a_tag_returns_it(tagger: ZeroShotTagger) -> None:
    for tag in ("bicycle", "tennis racquet", "zebra"):
        i = tagger.tags.index(tag)
        text = tagger.encoder.encode_texts([f"a photo of {tag}"])[0]
        (tags,) = tagger.tag_embeddings(3.0 * text[None])  # the image embedding points where the prompt does
        assert tags[0][0] == tag and tags[0][1] == pytest.approx(1.0, abs=1e-4)
        assert np.allclose(tagger.text_embeddings[i], text / np.linalg.norm(text), atol=1e-5)


def test_threshold_and_top_k(tagger: ZeroShotTagger) -> None:
    scores = np.full((2, len(tagger.tags)), -0.5, np.float32)
    scores[0, [5, 9, 2, 7, 11]] = [0.9, 0.8, 0.7, 0.6, 0.5]  # five above 0.2: the best four, best first
    scores[1, 3] = 0.1  # nothing reaches the threshold
    best, none = tagger.select(scores)
    assert [t for t, _ in best] == [tagger.tags[i] for i in (5, 9, 2, 7)] and best[0][1] == pytest.approx(0.9)
    assert none == []


def test_frames_are_tagged_through_clip(tagger: ZeroShotTagger, frames: np.ndarray) -> None:
    got = tagger.tag(frames[:3])
    want = tagger.tag_embeddings(tagger.encoder.encode_images(frames[:3]))
    assert got == want and len(got) == 3 and all(len(t) <= 4 for t in got)
    deleted = {"quarter", "back", "one", "two", "three", "four", "five"}
    assert len(TAG2TEXT_DELETED) == 7 and not deleted & set(tagger.tags)
    assert tagger.tag(frames[:0]) == []


def test_text_embeddings_are_cached_on_disk(
    tagger: ZeroShotTagger, clip_tiny: ClipEncoder, model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tagger.text_embeddings.shape == (len(tagger.tags), clip_tiny.dim)
    assert list((model_cache / "tag_embeddings").glob("clip-tiny-*-float32-torch-*.npy"))
    monkeypatch.setattr(clip_tiny, "encode_texts", lambda *a, **k: pytest.fail("re-encoded the vocabulary"))
    again = ZeroShotTagger(
        clip_tiny, "tag2text", threshold=0.5, top_k=2
    )  # selection settings are not in the key
    assert np.array_equal(again.text_embeddings, tagger.text_embeddings)
    with pytest.raises(pytest.fail.Exception, match="re-encoded"):  # another template is another cache entry
        ZeroShotTagger(clip_tiny, "tag2text", template="a picture of {tag}")


def test_bad_settings() -> None:
    with pytest.raises(ConfigError, match="must contain {tag}"):
        ZeroShotTagger(object(), template="a photo of")
    with pytest.raises(ConfigError, match="top_k must be >= 1"):
        ZeroShotTagger(object(), top_k=0)
