"""``ZeroShotTagger``: Tag2Text/RAM-style image tags from CLIP zero-shot scores over a tag vocabulary.

Every tag of the vocabulary becomes a prompt (``"a photo of {tag}"``); the prompts' CLIP text
embeddings are computed once per model and cached (in memory, and on disk under
``VIDFAST_CACHE_DIR/tag_embeddings/`` keyed by the model's files, the precision, the template and
the vocabulary). A frame's tags are the vocabulary entries whose cosine similarity with the frame's
CLIP image embedding is at least ``threshold``, best first, at most ``top_k``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from vidfast.errors import ConfigError
from vidfast.semiauto.tags import vocabulary as load_vocabulary

DEFAULT_TEMPLATE = "a photo of {tag}"
TEXT_BATCH = 256  # prompts per text-tower call when embedding a vocabulary (short prompts, done once)


def _normalize(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


class ZeroShotTagger:
    """Tags frames with a ``ClipEncoder`` over a vocabulary (``tag2text`` or ``ram``)."""

    def __init__(
        self,
        encoder: Any,
        vocabulary: str = "tag2text",
        template: str = DEFAULT_TEMPLATE,
        threshold: float = 0.25,
        top_k: int = 10,
        disk_cache: bool = True,
    ) -> None:
        if "{tag}" not in template:
            raise ConfigError(
                f"tag prompt template {template!r} must contain {{tag}}, e.g. 'a photo of {{tag}}'"
            )
        if top_k < 1:
            raise ConfigError(f"tag top_k must be >= 1, got {top_k}")
        self.encoder, self.vocabulary_name, self.template = encoder, vocabulary, template
        self.threshold, self.top_k = float(threshold), int(top_k)
        self.tags = load_vocabulary(vocabulary)
        self.text_embeddings = self._text_embeddings(disk_cache)  # [T, D], unit rows

    def _prompts(self) -> list[str]:
        return [self.template.format(tag=t) for t in self.tags]

    def _cache_path(self) -> Path | None:
        model_dir = getattr(self.encoder, "model_dir", None)
        if model_dir is None:
            return None
        from vidfast.models.loader import cache_root
        from vidfast.models.onnx_export import model_key

        key = model_key(str(self.encoder.ref).removeprefix("embedded:"), Path(model_dir))
        precision = str(self.encoder.dtype).removeprefix("torch.")
        digest = hashlib.sha256("\n".join([self.template, *self.tags]).encode()).hexdigest()[:12]
        return cache_root() / "tag_embeddings" / f"{key}-{precision}-{self.encoder.backend}-{digest}.npy"

    def _text_embeddings(self, disk_cache: bool) -> np.ndarray:
        path = self._cache_path() if disk_cache else None
        if path is not None and path.is_file():
            cached = np.load(path)
            if cached.shape == (len(self.tags), self.encoder.dim):
                return cached
        emb = _normalize(self.encoder.encode_texts(self._prompts(), batch_size=TEXT_BATCH).astype(np.float32))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
            with open(tmp, "wb") as fh:
                np.save(fh, emb)
            os.replace(tmp, path)
        return emb

    def scores(self, image_embeddings: np.ndarray) -> np.ndarray:
        """Cosine similarity ``[N, T]`` of image embeddings ``[N, D]`` (any scale) with every tag prompt."""
        return _normalize(np.asarray(image_embeddings, np.float32)) @ self.text_embeddings.T

    def select(self, scores: np.ndarray) -> list[list[tuple[str, float]]]:
        """Per row of ``scores``: the tags at or above the threshold, best first, at most ``top_k``."""
        out = []
        for row in np.atleast_2d(scores):
            k = min(self.top_k, len(row))
            best = np.argpartition(-row, k - 1)[:k]
            best = best[np.argsort(-row[best], kind="stable")]
            out.append([(self.tags[i], round(float(row[i]), 4)) for i in best if row[i] >= self.threshold])
        return out

    def tag_embeddings(self, image_embeddings: np.ndarray) -> list[list[tuple[str, float]]]:
        """Tags (with scores) of frames given by their CLIP image embeddings."""
        return self.select(self.scores(image_embeddings))

    def tag(self, frames: Any) -> list[list[tuple[str, float]]]:
        """Tags (with scores) of uint8 RGB frames (``[N,H,W,3]`` or a list of ``[H,W,3]``)."""
        if len(frames) == 0:
            return []
        return self.tag_embeddings(self.encoder.encode_images(frames))
