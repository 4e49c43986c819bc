"""A seed-style reference of the original InternVid-G (HawkEye) pipeline, for benchmarks only.

Written after seed-spec.md §2.2–2.6 in the original tool's *style* (not its code): every step is its
own pass over the video, frames are fetched with one OpenCV seek (``CAP_PROP_POS_FRAMES``) + read
each, models run one video (CLIP) or one scene (BLIP-2) at a time. It exists so that
``bench/bench_grounding.py`` can time the original pipeline *shape* with the same models vidfast
uses (pass the same ``ClipEncoder`` / ``Blip2Captioner`` classes over the same weights), so that only
the pipeline differs. It is not a supported way to build datasets.

Steps (seed-spec section, what the original did):

- ``split_scene`` (§2.2): PySceneDetect ``detect(path, ContentDetector())`` with the library
  defaults — which in scenedetect 0.7 means the **OpenCV** backend (``backend="opencv"``) and
  ``start_in_scene=False`` (a single-shot video gets no scenes and drops out, as in the original);
  scenes shorter than 0.5 s are dropped; times rounded to 3 decimals.
- ``scene_sim`` (§2.3): first 100 scenes; 3 frames per scene at ``start_f + i*interval``,
  ``interval = (end_f - start_f) // 4 + 1``, each by seek + read (a failed read fails the video);
  CLIP image embeddings of the whole video in ONE forward (the original's DataLoader batch is one
  video); scene embedding = mean of its frames (not normalised); cosine matrix.
- ``merge_scene`` (§2.4): greedy left-to-right merge, rule ``last``, threshold 0.85 (strict);
  merged matrix = max over member pairs.
- ``caption`` (§2.5 a): merged scenes of at least 1 s; the middle frame (``interval =
  ceil((end_f - start_f) / 2)``) by seek + read; ONE ``generate`` call per scene (batch 1).
- ``filter`` (§2.6): every non-empty caption is an item; 3 frames at ``start_f + i*((end_f -
  start_f) // 4)`` by seek + read; CLIP text + image per batch of 32 items; score = max over the
  3 frames of cosine(frame, caption). No threshold.

Deliberate departures, so the comparison is like for like: BLIP-2 gets vidfast's prompt (``None``)
and ``max_new_tokens`` (the original relied on checkpoint defaults, ~20 tokens); the filter's
"skip the whole batch of 32 when one item has < 3 frames" bug is not reproduced (items with a
failed read are skipped alone).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

MAX_NUM_SCENES = 100
FILTER_BATCH = 32


@dataclass
class SeedOptions:
    clip_min_secs: float = 0.5  # split_scene: shorter scenes are dropped
    frames_per_scene: int = 3  # scene_sim
    merge_threshold: float = 0.85  # merge_scene, strict >
    merge_method: str = "last"  # or "union"
    scene_min_secs: float = 1.0  # caption: shorter merged scenes get no caption
    caption_prompt: str | None = None
    max_new_tokens: int = 30
    filter_frames: int = 3
    start_in_scene: bool = False  # scenedetect's default, as the original ran it
    detect_backend: str = "opencv"  # scenedetect.detect's default backend in 0.7


@dataclass
class SeedResult:
    video: str
    scenes: list[list[float]] = field(default_factory=list)
    detected: int = 0  # scenes scenedetect returned, before the 0.5 s rule
    cuts: list[int] = field(default_factory=list)  # scene start frames after the first
    similarity: np.ndarray | None = None
    merged_scenes: list[list[float]] = field(default_factory=list)
    merged_similarity: np.ndarray | None = None
    captions: list[dict[str, Any]] = field(default_factory=list)  # one per captioned scene
    filtered: list[dict[str, Any]] = field(default_factory=list)  # one per non-empty caption
    frames_read: int = 0  # seek + read calls
    failed: str | None = None
    step_s: dict[str, float] = field(default_factory=dict)  # wall seconds per step


class _Seeker:
    """One OpenCV capture per step, as each original step opened the video itself."""

    def __init__(self, path: str) -> None:
        self.cap = cv2.VideoCapture(path)
        self.fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.reads = 0

    def read(self, index: int) -> np.ndarray | None:
        self.cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ret, frame = self.cap.read()
        self.reads += 1
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if ret else None

    def close(self) -> None:
        self.cap.release()


def split_scene(path: str, opts: SeedOptions) -> tuple[list[list[float]], int, list[int]]:
    from scenedetect import ContentDetector, detect

    found = detect(path, ContentDetector(), start_in_scene=opts.start_in_scene, backend=opts.detect_backend)
    cuts = [s.frame_num for s, _ in found[1:]]
    scenes = []
    for start, end in found:
        s, e = start.get_seconds(), end.get_seconds()
        if e - s >= opts.clip_min_secs:
            scenes.append([round(s, 3), round(e, 3)])
    return scenes, len(found), cuts


def scene_frame_indices(scene: list[float], fps: float, k: int) -> list[int]:
    start_f, end_f = int(scene[0] * fps), int(scene[1] * fps)
    interval = (end_f - start_f) // (k + 1) + 1
    return [start_f + i * interval for i in range(1, k + 1)]


def scene_sim(path: str, scenes: list[list[float]], clip: Any, opts: SeedOptions) -> tuple[np.ndarray | None, int]:
    """Cosine matrix of the scene means (first 100 scenes), or None when a frame could not be read."""
    if not scenes:
        return np.zeros((0, 0), np.float32), 0
    cap = _Seeker(path)
    try:
        frames = []
        for scene in scenes[:MAX_NUM_SCENES]:
            for index in scene_frame_indices(scene, cap.fps, opts.frames_per_scene):
                frame = cap.read(index)
                if frame is None:  # the original's cvtColor raised here and the video was skipped
                    return None, cap.reads
                frames.append(frame)
    finally:
        cap.close()
    emb = clip.encode_images(frames)  # one forward: the encoder is built with batch_size >= 300
    means = emb.reshape(-1, opts.frames_per_scene, emb.shape[1]).mean(axis=1)
    unit = means / np.linalg.norm(means, axis=1, keepdims=True)
    return unit @ unit.T, cap.reads


def merge_scene(scenes: list[list[float]], sim: np.ndarray, opts: SeedOptions) -> tuple[list[list[float]], np.ndarray]:
    n = sim.shape[0]
    similar = [{j for j in range(i + 1, n) if sim[i][j] > opts.merge_threshold} for i in range(n)]
    spans: list[list[int]] = []
    span: list[int] = []
    allowed: set[int] = set()
    for i in range(n):
        if span and i not in allowed:
            spans.append(span)
            span = []
        span.append(i)
        allowed = similar[i] if opts.merge_method == "last" else allowed | similar[i]
    if span:
        spans.append(span)
    merged = np.eye(len(spans), dtype=np.float32)
    for a, sa in enumerate(spans):
        for b, sb in enumerate(spans):
            if a != b:
                merged[a][b] = max(sim[i][j] for i in sa for j in sb)
    return [[scenes[s[0]][0], scenes[s[-1]][1]] for s in spans], merged


def caption(path: str, merged: list[list[float]], blip2: Any, opts: SeedOptions) -> tuple[list[dict[str, Any]], int]:
    cap = _Seeker(path)
    rows = []
    try:
        for start, end in merged:
            if end - start < opts.scene_min_secs:
                continue
            start_f, end_f = int(start * cap.fps), int(end * cap.fps)
            interval = math.ceil((end_f - start_f) / 2)
            frames = [f for f in (cap.read(i) for i in range(start_f + interval, end_f, interval)[:1]) if f is not None]
            captions = blip2.caption(frames, prompt=opts.caption_prompt, max_new_tokens=opts.max_new_tokens) if frames else []
            rows.append({"start_sec": start, "end_sec": end, "captions": captions})
    finally:
        cap.close()
    return rows, cap.reads


def filter_captions(path: str, rows: list[dict[str, Any]], clip: Any, opts: SeedOptions) -> tuple[list[dict[str, Any]], int]:
    items = [(r["start_sec"], r["end_sec"], c) for r in rows for c in r["captions"] if c]
    cap = _Seeker(path)
    out = []
    try:
        for b in range(0, len(items), FILTER_BATCH):
            batch, frames = [], []
            for start, end, text in items[b : b + FILTER_BATCH]:
                start_f, end_f = int(start * cap.fps), int(end * cap.fps)
                step = (end_f - start_f) // (opts.filter_frames + 1)
                got = [cap.read(start_f + i * step) for i in range(1, opts.filter_frames + 1)]
                if any(f is None for f in got):
                    continue
                batch.append((start, end, text))
                frames += got
            if not batch:
                continue
            img = clip.encode_images(frames).reshape(len(batch), opts.filter_frames, -1)
            txt = clip.encode_texts([t for _, _, t in batch])
            img /= np.linalg.norm(img, axis=2, keepdims=True)
            txt /= np.linalg.norm(txt, axis=1, keepdims=True)
            scores = np.einsum("bkd,bd->bk", img, txt).max(axis=1)
            out += [{"start_sec": s, "end_sec": e, "caption": t, "clip_sim": float(v)}
                    for (s, e, t), v in zip(batch, scores)]
    finally:
        cap.close()
    return out, cap.reads


def run_seed(path: str | Path, clip: Any, blip2: Any, opts: SeedOptions | None = None) -> SeedResult:
    """All steps for one video, each step timed."""
    opts = opts or SeedOptions()
    path = str(path)
    res = SeedResult(video=Path(path).name)

    t = time.perf_counter()
    res.scenes, res.detected, res.cuts = split_scene(path, opts)
    res.step_s["split_scene"] = time.perf_counter() - t

    t = time.perf_counter()
    res.similarity, reads = scene_sim(path, res.scenes, clip, opts)
    res.frames_read += reads
    res.step_s["scene_sim"] = time.perf_counter() - t
    if res.similarity is None:
        res.failed = "scene_sim: a frame could not be read"
        return res

    t = time.perf_counter()
    res.merged_scenes, res.merged_similarity = merge_scene(res.scenes[:MAX_NUM_SCENES], res.similarity, opts)
    res.step_s["merge_scene"] = time.perf_counter() - t

    t = time.perf_counter()
    res.captions, reads = caption(path, res.merged_scenes, blip2, opts)
    res.frames_read += reads
    res.step_s["caption"] = time.perf_counter() - t

    t = time.perf_counter()
    res.filtered, reads = filter_captions(path, res.captions, clip, opts)
    res.frames_read += reads
    res.step_s["filter"] = time.perf_counter() - t
    return res


def load_models(clip_ref: str = "embedded:clip-tiny", blip2_ref: str = "embedded:blip2-tiny") -> tuple[Any, Any]:
    """The original's configuration on vidfast's model classes: torch, fp32, CLIP one video per forward
    (batch 300 = 100 scenes x 3 frames), BLIP-2 batch 1."""
    from vidfast.models.blip2 import Blip2Captioner
    from vidfast.models.clip import ClipEncoder

    clip = ClipEncoder(clip_ref, device="cpu", dtype="float32", backend="torch",
                       batch_size=MAX_NUM_SCENES * SeedOptions().frames_per_scene)
    blip2 = Blip2Captioner(blip2_ref, device="cpu", dtype="float32", batch_size=1)
    return clip, blip2
