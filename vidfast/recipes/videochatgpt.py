"""The ``videochatgpt`` recipe: Video-ChatGPT instruction data, human-assisted and semi-automatic.

Paths (``videochatgpt.mode``; ``auto`` picks by whether ``--captions`` is given):

- **semi-automatic** (no captions): key frames (``videochatgpt.key_frames`` per video, uniform, one
  decode pass) → BLIP-2 caption of each key frame, CLIP zero-shot tags over the Tag2Text (or RAM)
  vocabulary, dense region captions (OWLv2 boxes, BLIP-2 caption of each crop; GRiT's role) → the
  tag-vocabulary filter of the region captions → an LLM "dense noisy caption" per video → 3 summary +
  3 description QA written from it (seed-spec §1.4);
- **human-assisted + semi** (``--captions`` and videos): the same vision stages and dense caption,
  then the ``*_semi`` prompts: answers rest on the human caption, the dense caption adds detail. An
  input that is only an id (a text-only run) has no video and gets the human-assisted QA;
- **human** (``mode=human``): captions only (``--captions`` or the synthetic videos' sidecars) →
  3 summary + 3 description + 1 creative QA (§1.2).

Every path adds one 150-300-word detailed description (``llm.descriptive``) and removes near-duplicate
QA (MiniLM). ``videochatgpt.pred_dir`` reads precomputed per-frame predictions (the original's
``--pred_dir`` files) instead of running the vision stages. Outputs (original field names):

- ``per_video/<id>.json``: the video's ``[{"Q","A"}]`` (6 or 7 when every call succeeded and none was a
  near-duplicate);
- ``descriptive/<id>.json``: one ``{"Q","A"}``;
- ``videochatgpt_instruct.json``: the flat ``[{"video_id","q","a"}]`` (QA first, then the
  descriptive item, per video);
- ``videochatgpt_train.json``: LLaVA-style ``[{"id","video":"<id>.pkl","conversations":[...]}]``,
  ``<video>`` after the question for even records and before it for odd ones, as the converter;
- ``dense_captions/<id>.json`` (semi paths): the dense noisy caption (which the original never saved;
  null when the LLM's summary stayed invalid) with, per key frame, its caption, tags, and the region
  captions kept and dropped by the filter;
- ``predictions/<id>.json`` (vision stages): the key frames' predictions in the original ``--pred_dir``
  shape, ``[[blip2_caption, "caption: [x1, y1, x2, y2]; ...", ["tag | tag"], [w, h]], ...]``;
- ``failures.jsonl``: every request still invalid after the retries, with its raw text.

A failed request is recorded and counted; a video fails only when all of its QA requests failed, or
when it has no human caption and its dense summary failed. Fixes: captions looked up by their real
key (the original's stripped-key lookup matched nothing), answers validated (schema, exact item
count, 150-300 words) with bounded retries instead of an endless sleep-retry loop, near-duplicates
removed, the flattening the repo lacked is written here; the tag filter's bugs (multi-word tags,
regions without vocabulary words dropped, coordinates sent to the LLM) are fixed as listed in
``vidfast.semiauto.tags``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from vidfast.config import RunConfig
from vidfast.models import manifest_for
from vidfast.models.tag2text import is_tagging_model, tagger_vocabulary
from vidfast.recipes.base import ExportContext, Recipe
from vidfast.recipes.llm_common import captions_stage, done, engine_fields, output_id, write_failures
from vidfast.runtime.records import safe_file_stem
from vidfast.runtime.stage import Stage
from vidfast.runtime.store import atomic_write_json
from vidfast.stages.caption import FrameCaptionStage
from vidfast.stages.decode import KeyFramesStage
from vidfast.stages.generate import DenseCaptionStage, PredictionsDirStage, VideoChatGPTQAStage
from vidfast.stages.generate.dense_caption import PREDICTIONS, dir_digest, frame_predictions
from vidfast.stages.regions import RegionCaptionStage
from vidfast.stages.tags import ModelTagStage, ZeroShotTagStage

STAGE = VideoChatGPTQAStage.name
DENSE = DenseCaptionStage.name
ZERO_SHOT_TAGGER = "clip-zero-shot"


def resolve_mode(cfg: RunConfig) -> str:
    """``human``, ``semi`` or ``assisted``: ``auto`` is ``assisted`` with captions, ``semi`` without."""
    mode = cfg.videochatgpt.mode
    if mode == "auto":
        return "assisted" if cfg.llm.captions else "semi"
    return mode


def _input_size(ref: str, default: int) -> int:
    manifest = manifest_for(ref)
    size = manifest.preprocessing.get("image_size", default) if manifest else default
    return int(size if isinstance(size, int) else max(size))


def filter_vocabulary(cfg: RunConfig) -> str:
    """The tag-vocabulary filter's vocabulary: a Tag2Text/RAM tagger's own when it is known, else
    ``videochatgpt.tag_vocabulary`` (the CLIP zero-shot tagger's)."""
    m = cfg.models
    if m.tagger != ZERO_SHOT_TAGGER and is_tagging_model(m.tagger):
        return tagger_vocabulary(m.tagger) or cfg.videochatgpt.tag_vocabulary
    return cfg.videochatgpt.tag_vocabulary


def vision_stages(cfg: RunConfig, text_only: bool) -> list[Stage]:
    """Key frames → BLIP-2 frame captions → zero-shot tags → region captions (or the ``pred_dir`` files)."""
    v, m = cfg.videochatgpt, cfg.models
    if v.pred_dir:
        return [PredictionsDirStage(pred_dir=v.pred_dir, digest=dir_digest(v.pred_dir))]
    tagger_clip = m.clip if m.tagger == ZERO_SHOT_TAGGER else m.tagger
    long_side = max(_input_size(m.detector, 960), _input_size(m.blip2, 224), _input_size(tagger_clip, 384 if is_tagging_model(m.tagger) else 224))
    # a run with captions may have only ids (text-only): its vision models load at the first frames
    devices = {"device": m.device, "dtype": m.dtype, "lazy_load": text_only}
    tag_stage: Stage
    if is_tagging_model(m.tagger):  # Tag2Text / RAM: the model's own classes and thresholds
        tag_stage = ModelTagStage(
            model=m.tagger,
            **devices,
            backend=v.vision_backend,
            threshold=v.tag_model_threshold,
            top_k=v.tag_top_k,
            encode_batch=v.vision_batch_size,
        )
    else:
        tag_stage = ZeroShotTagStage(
            model=tagger_clip,
            **devices,
            backend=v.vision_backend,
            vocabulary=v.tag_vocabulary,
            template=v.tag_template,
            threshold=v.tag_threshold,
            top_k=v.tag_top_k,
            encode_batch=v.vision_batch_size,
        )
    return [
        KeyFramesStage(frames=v.key_frames, long_side=long_side, text_only=text_only,
                       decode_backend=cfg.decode.backend),
        FrameCaptionStage(
            model=m.blip2,
            **devices,
            prompt=v.caption_prompt,
            max_new_tokens=v.caption_max_new_tokens,
            generate_batch=v.vision_batch_size,
        ),
        tag_stage,
        RegionCaptionStage(
            detector=m.detector,
            captioner=m.blip2,
            **devices,
            top_k=v.region_top_k,
            min_score=v.region_min_score,
            nms_iou=v.region_nms_iou,
            rank=v.region_rank,
            prompt=v.caption_prompt,
            max_new_tokens=v.caption_max_new_tokens,
            detect_batch=v.vision_batch_size,
            generate_batch=v.vision_batch_size,
        ),
    ]


def build_stages(cfg: RunConfig) -> list[Stage]:
    mode = resolve_mode(cfg)
    human, semi = mode in ("human", "assisted"), mode in ("semi", "assisted")
    # with the dense caption as well, a video without a human caption gets the semi-automatic QA
    stages: list[Stage] = [captions_stage(cfg, optional=semi)] if human else []
    if semi:
        # auto with captions: an input that is only an id (no file) gets the human-assisted QA
        stages += vision_stages(cfg, text_only=human and cfg.videochatgpt.mode == "auto")
        stages.append(
            DenseCaptionStage(
                **engine_fields(cfg),
                vocabulary=filter_vocabulary(cfg),
                gt_source="captions" if human else None,
            )
        )
    stages.append(
        VideoChatGPTQAStage(
            **engine_fields(cfg),
            source="captions" if human else None,
            noisy_source=DENSE if semi else None,
            semi_creative=cfg.videochatgpt.creative_semi,
            descriptive=cfg.llm.descriptive,
            dedup=cfg.llm.dedup,
            dedup_threshold=cfg.llm.dedup_threshold,
            text_encoder=cfg.models.text_encoder,
        )
    )
    return stages


def training_records(flat: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The converter's LLaVA-style records: one per QA, ``<video>`` alternating after/before the question."""
    out = []
    for i, rec in enumerate(flat):
        human = f"{rec['q']}\n<video>" if i % 2 == 0 else f"<video>\n{rec['q']}"
        out.append(
            {
                "id": rec["video_id"],
                "video": f"{rec['video_id']}.pkl",
                "conversations": [{"from": "human", "value": human}, {"from": "gpt", "value": rec["a"]}],
            }
        )
    return out


def export_semi(ctx: ExportContext) -> dict[str, str]:
    """``dense_captions/<id>.json`` and ``predictions/<id>.json`` of every video that has them."""
    n_dense = n_pred = n_files = 0
    for task in ctx.tasks:
        vid = output_id(task)
        preds = frame_predictions(task)
        if preds and PREDICTIONS not in task.data:  # pred_dir inputs are not copied back out
            atomic_write_json(ctx.out_dir / "predictions" / f"{safe_file_stem(vid)}.json", [p.to_original() for p in preds])
            n_pred += 1
        dense = task.data.get(DENSE)
        if dense is not None and (dense["summary"] or dense["frames"]):
            doc = {
                "video_id": vid,
                "video": task.video,
                "dense_caption": dense["summary"],
                "frames": dense["frames"],
            }
            atomic_write_json(ctx.out_dir / "dense_captions" / f"{safe_file_stem(vid)}.json", doc)
            n_dense += dense["summary"] is not None
            n_files += 1
    ctx.stats.update({"dense_captions": n_dense, "frame_predictions": n_pred})
    files = {"dense_captions": "dense_captions/"} if n_files else {}
    return files | ({"predictions": "predictions/"} if n_pred else {})


def export(ctx: ExportContext) -> dict[str, str]:
    flat: list[dict[str, str]] = []
    n_desc = removed = generated = 0
    modes: Counter[str] = Counter()
    for task in done(ctx.tasks, STAGE):
        vid, res = output_id(task), task.data[STAGE]
        atomic_write_json(ctx.out_dir / "per_video" / f"{safe_file_stem(vid)}.json", res["qa"])
        flat += [{"video_id": vid, "q": it["Q"], "a": it["A"]} for it in res["qa"]]
        if res["descriptive"] is not None:
            atomic_write_json(ctx.out_dir / "descriptive" / f"{safe_file_stem(vid)}.json", res["descriptive"])
            flat.append({"video_id": vid, "q": res["descriptive"]["Q"], "a": res["descriptive"]["A"]})
            n_desc += 1
        removed += res["dedup_removed"]
        generated += res["qa_generated"]
        modes[res.get("mode", "human")] += 1
    atomic_write_json(ctx.out_dir / "videochatgpt_instruct.json", flat)
    atomic_write_json(ctx.out_dir / "videochatgpt_train.json", training_records(flat))
    failures, n_failed = write_failures(ctx.out_dir, ctx.tasks, (DENSE, STAGE))
    semi_files = export_semi(ctx)
    ctx.stats.update(
        {
            "qa_generated": generated,
            "qa_dedup_removed": removed,
            "qa_kept": len(flat) - n_desc,
            "descriptive": n_desc,
            "instruct_records": len(flat),
            "failures": n_failed,
            "videos_by_mode": dict(modes),
        }
    )
    return {
        "per_video": "per_video/",
        "descriptive": "descriptive/",
        "instruct": "videochatgpt_instruct.json",
        "train": "videochatgpt_train.json",
        "failures": failures,
        **semi_files,
    }


RECIPE = Recipe(
    "videochatgpt",
    "Video-ChatGPT QA (summary, description, creative, detailed) from human captions and/or a dense "
    "caption of key-frame captions, tags and region captions",
    build_stages,
    export,
)
