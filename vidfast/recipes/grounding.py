"""The ``grounding`` recipe: InternVid-G (HawkEye) temporal-grounding data, bugs fixed.

Stages: probe → shots (PySceneDetect-identical cuts; scene rules; the same decode keeps the frames the
model stages will need, so each video is decoded once) → scene frames (N per scene) → CLIP (frame
embeddings, scene similarity, merge) → caption frames (middle of each merged
scene) → BLIP-2 captions → CLIP caption scores. The export step then keeps captions by the median
rule (over the whole run, as the original) or a fixed threshold, builds the negative spans and writes:

- ``grounding.jsonl``: the final InternVid-G rows (original field names);
- ``hawkeye/<type>.json``: HawkEye grounding instruction records (grounding, caption, choice,
  choice_caption);
- ``intermediates/`` (``grounding.emit_intermediates``): the original tool's intermediate files;
- ``duplicates.jsonl`` (``grounding.duplicates``): merged scenes of different videos whose mean CLIP
  embeddings have cosine >= ``grounding.duplicate_threshold`` (exact FAISS inner-product search, GPU
  when faiss has it; numpy otherwise) — re-uploads and shared footage across a collection.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidfast.config import RunConfig
from vidfast.errors import ConfigError
from vidfast.export.hawkeye import RECORD_TYPES, build_records
from vidfast.export.internvid import video_name, write_intermediates
from vidfast.grounding import (
    GroundingStats,
    NegativeSpanConfig,
    cross_video_duplicates,
    grounding_rows,
    keep_mask,
    scene_embeddings,
    select_captions,
)
from vidfast.models import manifest_for
from vidfast.recipes.base import ExportContext, Recipe
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Stage
from vidfast.runtime.store import RunStore, atomic_write_json, atomic_write_jsonl
from vidfast.stages.caption import CaptionStage
from vidfast.stages.decode import ProbeStage
from vidfast.stages.decode.sample import CaptionFramesStage, SceneFramesStage
from vidfast.stages.embed import CaptionScoreStage, ClipSceneStage
from vidfast.stages.scenes import ShotStage


def _image_size(ref: str, default: int) -> int:
    manifest = manifest_for(ref)
    size = manifest.preprocessing.get("image_size", default) if manifest else default
    return int(size if isinstance(size, int) else max(size))


def selection_rule(value: str) -> str | float:
    """``median``, ``video_median`` or a number (fixed clip_sim threshold)."""
    if value in ("median", "video_median"):
        return value
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"grounding.selection must be median, video_median or a number, got {value!r}") from None


def build_stages(cfg: RunConfig) -> list[Stage]:
    g, m, sc = cfg.grounding, cfg.models, cfg.scenes
    selection_rule(g.selection)  # fail before any work
    clip = {"model": m.clip, "device": m.device, "dtype": m.dtype, "backend": g.vision_backend,
            "encode_batch": g.clip_batch_size}
    decode = {"decode_backend": cfg.decode.backend, "device_frames": cfg.decode.device_frames}
    return [
        ProbeStage(count_frames=False),
        ShotStage(detector=sc.detector, threshold=sc.threshold, min_scene_len=sc.min_scene_len, backend=sc.backend,
                  min_scene_s=sc.min_scene_s, max_scenes=sc.max_scenes, keep_frames=g.keep_frames,
                  scene_side=_image_size(m.clip, 224), caption_side=_image_size(m.blip2, 224),
                  frames_per_scene=g.frames_per_scene, caption_min_scene_s=g.caption_min_scene_s,
                  caption_groups=g.keep_merge_groups, window_mb=g.keep_window_mb, cache_mb=g.keep_cache_mb),
        SceneFramesStage(frames_per_scene=g.frames_per_scene, short_side=_image_size(m.clip, 224), **decode),
        ClipSceneStage(**clip, normalize=g.normalize_scene_embeddings, merge_threshold=g.merge_threshold,
                       merge_rule=g.merge_rule),
        CaptionFramesStage(min_scene_s=g.caption_min_scene_s, short_side=_image_size(m.blip2, 224), **decode),
        CaptionStage(model=m.blip2, device=m.device, dtype=m.dtype, prompt=g.caption_prompt,
                     max_new_tokens=g.caption_max_new_tokens, generate_batch=g.caption_batch_size),
        CaptionScoreStage(**clip, reduce=g.caption_score),
    ]


def _filter_rows(tasks: list[VideoTask]) -> list[dict[str, Any]]:
    return [{"video_fname": video_name(t), "start_sec": r["start_sec"], "end_sec": r["end_sec"],
             "caption": r["caption"], "clip_sim": r["clip_sim"]} for t in tasks for r in t.data["caption_scores"]["rows"]]


def _grounding(ctx: ExportContext, store: RunStore, tasks: list[VideoTask],
               selected: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], GroundingStats]:
    g = ctx.config.grounding
    spans = NegativeSpanConfig(g.boundary_shift, g.span_same_threshold, g.min_caption_span_s, g.max_caption_span_s,
                               None, g.no_context)
    by_video: dict[str, list[dict[str, Any]]] = {}
    for seg in selected:
        by_video.setdefault(seg["video_fname"], []).append(seg)
    rows, stats = [], GroundingStats()
    for task in tasks:
        name = video_name(task)
        merged = task.data["clip"]["merged_scenes"]
        sim = store.load_array("clip", task, "merged_similarity")
        duration = float(task.data["probe"]["duration_s"] or merged[-1][1])
        video_rows, video_stats = grounding_rows(name, duration, merged, sim, by_video.get(name, []), spans)
        rows += video_rows
        stats.add(video_stats)
    return rows, stats


def _duplicates(ctx: ExportContext, store: RunStore, tasks: list[VideoTask]) -> list[dict[str, Any]]:
    """Merged scenes of different videos whose mean CLIP embeddings have cosine >= the threshold (FAISS)."""
    g = ctx.config.grounding
    embs, owners, spans = [], [], []
    for task in tasks:
        clip = task.data["clip"]
        offsets = np.asarray(clip["frame_offsets"])[np.asarray(clip["merged_offsets"])]
        frames = store.load_array("clip", task, "frames")
        embs.append(np.asarray(scene_embeddings(frames, offsets, normalize=g.normalize_scene_embeddings)))
        owners += [video_name(task)] * (len(offsets) - 1)
        spans += clip["merged_scenes"]
    if len(set(owners)) < 2:
        return []
    pairs = cross_video_duplicates(np.concatenate(embs), owners, g.duplicate_threshold, g.duplicate_neighbours,
                                   g.search_backend)
    return [{"video_a": owners[p.i], "start_sec_a": spans[p.i][0], "end_sec_a": spans[p.i][1],
             "video_b": owners[p.j], "start_sec_b": spans[p.j][0], "end_sec_b": spans[p.j][1],
             "similarity": round(p.similarity, 5)} for p in pairs]


def export(ctx: ExportContext) -> dict[str, str]:
    store = RunStore(ctx.out_dir)
    tasks = [t for t in ctx.tasks if not t.failed]
    filter_rows = _filter_rows(tasks)
    selected = select_captions(filter_rows, selection_rule(ctx.config.grounding.selection))
    rows, stats = _grounding(ctx, store, tasks, selected)
    atomic_write_jsonl(ctx.out_dir / "grounding.jsonl", rows)
    files = {"grounding": "grounding.jsonl"}
    if ctx.config.grounding.hawkeye_records:
        for kind in RECORD_TYPES:
            atomic_write_json(ctx.out_dir / "hawkeye" / f"{kind}.json", build_records(rows, kind, ctx.config.grounding.seed))
            files[f"hawkeye_{kind}"] = f"hawkeye/{kind}.json"
    if ctx.config.grounding.emit_intermediates:
        files.update(write_intermediates(ctx.out_dir, store, tasks, filter_rows, selected))
    if ctx.config.grounding.duplicates:
        dups = _duplicates(ctx, store, tasks)
        atomic_write_jsonl(ctx.out_dir / "duplicates.jsonl", dups)
        files["duplicates"] = "duplicates.jsonl"
        ctx.stats["duplicate_scene_pairs"] = len(dups)
    mask = keep_mask([r["clip_sim"] for r in filter_rows], selection_rule(ctx.config.grounding.selection),
                     [r["video_fname"] for r in filter_rows])
    sims: dict[str, list[float]] = {"kept": [], "dropped": []}  # the run report's caption-score histogram
    for r, keep in zip(filter_rows, mask):
        sims["kept" if keep else "dropped"].append(round(float(r["clip_sim"]), 4))
    ctx.stats["clip_sim"] = sims
    ctx.stats.update({"captions_scored": len(filter_rows), "segments_selected": len(selected),
                      "grounding_rows": len(rows), "segments": stats.segments,
                      "no_context_kept": stats.no_context_kept,
                      "scenes_dropped_short": sum(t.data["shots"]["dropped_short"] for t in tasks),
                      "scenes_capped": sum(t.data["shots"]["capped"] for t in tasks)})
    return files


RECIPE = Recipe("grounding", "InternVid-G: shots, CLIP similarity, merge, BLIP-2 captions, filter, negative spans",
                build_stages, export)
