"""CLIP stages of the grounding recipe, batched across the scenes of several videos.

``ClipSceneStage``: frame embeddings → scene embeddings (mean of each scene's frames) → scene×scene
cosine matrix (one GEMM) → greedy merge of consecutive similar scenes → merged matrix (max over
member pairs). ``CaptionScoreStage``: caption embeddings → score against each merged scene's sampled
frames (max by default). Arrays are kept beside the stage results as ``.npy`` files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from vidfast.grounding import caption_scene_scores, cosine_matrix, merge_scenes, scene_embeddings
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage, error_reason
from vidfast.stages.models import shared_model


@dataclass
class _ClipUser(Stage):
    model: str = "openai/clip-vit-large-patch14"
    device: str = "auto"
    dtype: str = "auto"
    backend: str = "auto"
    encode_batch: int = 64
    performance_fields: ClassVar[frozenset[str]] = frozenset({"encode_batch"})
    resources: ClassVar[Resources] = Resources(cpus=1.0, gpus=0.25, memory_gb=2.0)  # light: 4 share a GPU
    max_workers: ClassVar[int | None] = 1
    batch_size: ClassVar[int] = 8

    def setup(self) -> None:
        from vidfast.models.classifier import image_text_encoder

        key = ("clip", self.model, self.device, self.dtype, self.backend)
        self.encoder = shared_model(key, lambda: image_text_encoder(self.model, device=self.device, dtype=self.dtype,
                                                                    backend=self.backend, batch_size=self.encode_batch))

    def each(self, batch: list[VideoTask], fn: Any) -> None:
        """Finish each task of a batch on its own, so one bad video fails alone."""
        for task in batch:
            try:
                task.data[self.name] = fn(task)
            except Exception as exc:
                task.fail(self.name, error_reason(exc), str(exc) or type(exc).__name__)


@dataclass
class ClipSceneStage(_ClipUser):
    """Frame embeddings, the scene similarity matrix and the merged scenes of each video."""

    name: ClassVar[str] = "clip"
    normalize: bool = False
    merge_threshold: float = 0.85
    merge_rule: str = "last"

    def process(self, batch: list[VideoTask]) -> list[VideoTask]:
        frames = [img for t in batch for img in t.data["scene_frames"]["images"]]
        emb = self.encoder.encode_images(frames)
        self.stats.add("frames", len(frames))
        bounds = np.cumsum([0] + [len(t.data["scene_frames"]["images"]) for t in batch])
        per_task = {t.video_id: emb[a:b] for t, a, b in zip(batch, bounds[:-1], bounds[1:])}
        self.each(batch, lambda t: self._finish(t, per_task[t.video_id]))
        for task in batch:
            task.data.pop("scene_frames", None)  # frames are no longer needed: free them now
        return batch

    def _finish(self, task: VideoTask, frame_emb: np.ndarray) -> dict[str, Any]:
        scenes = task.data["shots"]["scenes"]
        sampled = task.data["scene_frames"]
        offsets = np.concatenate([[0], np.cumsum(np.bincount(sampled["range_ids"], minlength=len(scenes)))])
        sim = cosine_matrix(scene_embeddings(frame_emb, offsets, normalize=self.normalize))
        merged = merge_scenes(sim, scenes, self.merge_threshold, self.merge_rule)
        for name, arr in (("frames", frame_emb), ("similarity", sim), ("merged_similarity", merged.similarity)):
            self.store.save_array(self.name, task, name, np.asarray(arr, dtype=np.float32))
        return {"scenes": scenes, "frame_offsets": offsets.tolist(), "frame_times": np.round(sampled["times"], 4).tolist(),
                "merged_offsets": merged.offsets.tolist(), "merged_scenes": merged.scenes}


@dataclass
class CaptionScoreStage(_ClipUser):
    """CLIP score of every caption against the sampled frames of its merged scene."""

    name: ClassVar[str] = "caption_scores"
    reduce: str = "max"

    def process(self, batch: list[VideoTask]) -> list[VideoTask]:
        texts = [c for t in batch for seg in t.data["captions"]["segments"] for c in seg["captions"]]
        emb = self.encoder.encode_texts(texts) if texts else np.zeros((0, 1), np.float32)
        self.stats.add("captions", len(texts))
        counts = [sum(len(seg["captions"]) for seg in t.data["captions"]["segments"]) for t in batch]
        bounds = np.cumsum([0, *counts])
        per_task = {t.video_id: emb[a:b] for t, a, b in zip(batch, bounds[:-1], bounds[1:])}
        self.each(batch, lambda t: self._finish(t, per_task[t.video_id]))
        return batch

    def _finish(self, task: VideoTask, cap_emb: np.ndarray) -> dict[str, Any]:
        clip = task.data["clip"]
        segments = task.data["captions"]["segments"]
        scene_of = np.array([seg["scene"] for seg in segments for _ in seg["captions"]], dtype=np.int64)
        if scene_of.size == 0:
            return {"rows": []}
        frame_offsets = np.asarray(clip["frame_offsets"])[np.asarray(clip["merged_offsets"])]
        frame_emb = self.store.load_array("clip", task, "frames")
        scores = caption_scene_scores(frame_emb, frame_offsets, cap_emb, scene_of, reduce=self.reduce)
        rows, k = [], 0
        for seg in segments:
            for caption in seg["captions"]:
                rows.append({"start_sec": seg["start_sec"], "end_sec": seg["end_sec"], "caption": caption,
                             "clip_sim": round(float(scores[k]), 5), "scene": seg["scene"]})
                k += 1
        return {"rows": rows}
