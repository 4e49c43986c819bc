"""``OwlDetector``: region boxes from OWLv2 (or OWL-ViT), batched, for GRiT-style dense captions.

OWLv2 predicts one box per image patch, a class-agnostic *objectness* score per box, and a score
per text query. The region stage ranks boxes by objectness (``rank="objectness"``, GRiT-like: any
object) or by their best score against the frame's tags used as text queries (``rank="tags"``,
also the only choice for OWL-ViT, which has no objectness head); then a score threshold,
non-maximum suppression and the ``top_k`` best per frame. Each box carries the query (tag) it
matches best.

Preprocessing follows the HF processors: OWLv2 pads each frame to a square (bottom/right, grey)
and resizes it to the model size; OWL-ViT resizes straight to the model size. Boxes are returned
in the input frame's pixels, ``(x1, y1, x2, y2)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vidfast.errors import ConfigError
from vidfast.models import loader
from vidfast.models.manifest import manifest_for
from vidfast.models.preprocess import ImageSpec, pixel_values, spec_for

RANKS = ("objectness", "tags")
FALLBACK_QUERY = "an object"  # the query of a frame without tags (OWL needs at least one)
PAD_VALUE = 128  # OWLv2's processor pads with 0.5 after rescaling to [0, 1]


@dataclass(frozen=True)
class Detection:
    """One box in frame pixels with its ranking score and best-matching query."""

    box: tuple[float, float, float, float]
    score: float
    label: str | None = None


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression; indices kept, best score first."""
    order = list(np.argsort(-scores, kind="stable"))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order:
        i = order.pop(0)
        keep.append(int(i))
        if not order:
            break
        rest = np.asarray(order)
        x1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        overlap = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = [j for j, o in zip(order, overlap) if o <= iou]
    return keep


def crop(frame: np.ndarray, box: Sequence[float], min_size: int = 8) -> np.ndarray:
    """The pixels of ``box`` in ``frame`` ``[H,W,3]``; a box smaller than ``min_size`` is grown around its
    centre (shifted to stay inside the frame)."""
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    bw, bh = min(max(x2 - x1, min_size), w), min(max(y2 - y1, min_size), h)
    left = round(float(np.clip((x1 + x2) / 2 - bw / 2, 0, w - bw)))
    top = round(float(np.clip((y1 + y2) / 2 - bh / 2, 0, h - bh)))
    right, bottom = min(w, max(left + 1, round(left + bw))), min(h, max(top + 1, round(top + bh)))
    return np.ascontiguousarray(frame[top:bottom, left:right])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|, unlike 1 / (1 + exp(-x))


def _pad_square(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    side = max(h, w)
    if h == w:
        return frame
    out = np.full((side, side, 3), PAD_VALUE, np.uint8)
    out[:h, :w] = frame
    return out


class OwlDetector:
    """OWLv2 / OWL-ViT boxes over ``ref`` (HF id, local directory or ``embedded:owlv2-tiny``)."""

    def __init__(
        self,
        ref: str = "google/owlv2-base-patch16-ensemble",
        *,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 8,
        preprocess: str = "auto",
        allow_hub: bool = False,
    ) -> None:
        from transformers import AutoModelForZeroShotObjectDetection

        torch_device = loader.resolve_device(device)
        model_dir = loader.resolve_model_dir(ref, allow_hub)
        model = loader.load_model(
            ref,
            AutoModelForZeroShotObjectDetection,
            torch_device,
            loader.resolve_dtype(dtype, torch_device),
            allow_hub,
        )
        self._attach(
            model,
            loader.load_tokenizer(ref, allow_hub),
            spec_for(manifest_for(ref), model_dir),
            batch_size=batch_size,
            preprocess=preprocess,
        )
        self.ref, self.model_dir = ref, model_dir

    def _attach(
        self, model: Any, tokenizer: Any, spec: ImageSpec, *, batch_size: int, preprocess: str
    ) -> None:
        kind = model.config.model_type
        if kind not in ("owlv2", "owlvit"):
            raise ConfigError(f"region detector must be an OWLv2 or OWL-ViT model, got model_type {kind!r}")
        self.model, self.tokenizer = model.eval(), tokenizer
        self.spec = dataclasses.replace(spec, center_crop=False)  # both resize straight to size x size
        self.device, self.dtype = str(model.device), model.dtype
        self.batch_size, self.preprocess = int(batch_size), preprocess
        self.has_objectness = kind == "owlv2"
        self.pad_square = kind == "owlv2"
        self.max_query_tokens = int(model.config.text_config.max_position_embeddings)
        self.ref, self.model_dir = "in-memory", None

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, spec: ImageSpec, *, batch_size: int = 8) -> OwlDetector:
        """Wrap an already-built OWLv2/OWL-ViT detection model."""
        det = cls.__new__(cls)
        det._attach(model, tokenizer, spec, batch_size=batch_size, preprocess="auto")
        return det

    def detect(
        self,
        frames: Sequence[np.ndarray],
        queries: Sequence[Sequence[str]] | None = None,
        *,
        top_k: int = 5,
        min_score: float = 0.1,
        nms_iou: float = 0.5,
        rank: str = "objectness",
    ) -> list[list[Detection]]:
        """The best boxes of each uint8 RGB frame ``[H,W,3]``; ``queries``: text queries per frame (its tags)."""
        if rank not in RANKS:
            raise ConfigError(f"unknown region rank {rank!r}; valid: {', '.join(RANKS)}")
        if rank == "objectness" and not self.has_objectness:
            raise ConfigError("OWL-ViT has no objectness head; use rank=tags or an OWLv2 model")
        queries = [list(q) for q in queries] if queries is not None else [[] for _ in frames]
        if len(queries) != len(frames):
            raise ValueError(f"detect: {len(frames)} frames but {len(queries)} query lists")
        out: list[list[Detection]] = []
        for start in range(0, len(frames), self.batch_size):
            part = slice(start, start + self.batch_size)
            out += self._batch(list(frames[part]), queries[part], top_k, min_score, nms_iou, rank)
        return out

    def _text_inputs(self, queries: list[list[str]]) -> tuple[Any, Any, list[list[str]]]:
        """input_ids / attention_mask ``[B*Q, L]`` with empty query slots zeroed (OWL masks them)."""
        import torch

        per_frame = [q or [FALLBACK_QUERY] for q in queries]
        n_q = max(len(q) for q in per_frame)
        flat = [q[i] if i < len(q) else "" for q in per_frame for i in range(n_q)]
        enc = self.tokenizer(
            flat, padding=True, truncation=True, max_length=self.max_query_tokens, return_tensors="pt"
        )
        ids, mask = enc["input_ids"], enc["attention_mask"]
        empty = torch.tensor([not s for s in flat])
        ids[empty], mask[empty] = 0, 0
        mask[empty, 0] = 1  # keep every attention row well defined; the query itself is masked by id 0
        return ids, mask, per_frame

    def _batch(
        self,
        frames: list[np.ndarray],
        queries: list[list[str]],
        top_k: int,
        min_score: float,
        nms_iou: float,
        rank: str,
    ) -> list[list[Detection]]:
        import torch

        shaped = [_pad_square(f) for f in frames] if self.pad_square else frames
        pixels = pixel_values(shaped, self.spec, self.preprocess)
        ids, mask, per_frame = self._text_inputs(queries)
        with torch.inference_mode():
            out = self.model(
                input_ids=ids.to(self.device),
                attention_mask=mask.to(self.device),
                pixel_values=pixels.to(self.device, self.dtype),
            )
        boxes = out.pred_boxes.float().cpu().numpy()  # [B, P, 4] cx, cy, w, h in [0, 1]
        logits = out.logits.float().cpu().numpy()  # [B, P, Q]
        objectness = out.objectness_logits.float().cpu().numpy() if self.has_objectness else None
        results = []
        for b, frame in enumerate(frames):
            n_valid = len(per_frame[b])
            query_scores = _sigmoid(logits[b, :, :n_valid])
            best_query = query_scores.argmax(axis=1)
            score = _sigmoid(objectness[b]) if rank == "objectness" else query_scores.max(axis=1)
            labels = [per_frame[b][q] if queries[b] else None for q in best_query]
            results.append(self._select(frame, boxes[b], score, labels, top_k, min_score, nms_iou))
        return results

    def _select(
        self,
        frame: np.ndarray,
        boxes: np.ndarray,
        score: np.ndarray,
        labels: list[str | None],
        top_k: int,
        min_score: float,
        nms_iou: float,
    ) -> list[Detection]:
        h, w = frame.shape[:2]
        sx, sy = (max(h, w), max(h, w)) if self.pad_square else (w, h)
        cx, cy, bw, bh = boxes[:, 0] * sx, boxes[:, 1] * sy, boxes[:, 2] * sx, boxes[:, 3] * sy
        xyxy = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
        xyxy = np.clip(xyxy, 0, [w, h, w, h])
        ok = (score >= min_score) & (xyxy[:, 2] - xyxy[:, 0] >= 1) & (xyxy[:, 3] - xyxy[:, 1] >= 1)
        idx = np.flatnonzero(ok)
        keep = [idx[i] for i in nms(xyxy[idx], score[idx], nms_iou)][:top_k] if idx.size else []
        return [
            Detection(tuple(round(float(v), 2) for v in xyxy[i]), round(float(score[i]), 4), labels[i])
            for i in keep
        ]
