"""The GPU figures of the design, side by side in one process (run by bench/gpu_check.sh).

Sections (each records its own error and the next one runs):

- ``clip``     CLIP ViT-L/14 (random weights) fp16 images/s, model only at batch 256: torch eager vs its
               torch.compile + CUDA-graphs twin vs TensorRT (when installed); target >= 2,500/s on an H100;
- ``blip2``    BLIP-2 OPT-2.7b (random weights) captions/s batched vs batch-1 (target >= 10x);
- ``tagger``   the RAM tagger (Swin-L, random weights) fp16 images/s, eager vs CUDA graphs;
- ``decode``   decode fps of a 1080p H.264 clip: PyAV (FFmpeg threads, rgb24) vs DALI NVDEC vs
               PyNvVideoCodec, every frame, RGB out;
- ``grounding`` the grounding recipe end to end on synthetic 720p videos with FULL-SIZE CLIP ViT-L/14 and
               BLIP-2 OPT-2.7b (random weights, injected as the process's shared models): video-hours per
               GPU-hour = video seconds / wall seconds.

Outputs are checked before they are timed (twin vs eager cosine, frame counts). ``--dry-run`` runs every
section on the CPU with tiny sizes (one-layer configs, 160x90 clips, DALI's CPU decoder on VP9) to prove
the code paths; its numbers mean nothing and it writes ``gpu_check_dry.json``.

    python bench/bench_gpu.py [--dry-run] [--only clip,decode] [--budget-s 240]

Writes bench/results/gpu_check.json (machine, GPU name and driver first).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.bench_vision import (
    MEAN,
    STD,
    bench_blip2_full,
    blip2_opt27_config,
    build_random,
    clip_l14_config,
)
from bench.common import write_result

SECTIONS = ("clip", "blip2", "decode", "grounding", "tagger")  # priority order: the budget cuts from the end
H100_CLIP_TARGET = 2500.0


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def per_s(fn: Callable[[], Any], items: int, repeat: int) -> float:
    """Best items/s over ``repeat`` timed calls after one warm-up (GPU work synchronised)."""
    fn()
    _sync()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        _sync()
        best = min(best, time.perf_counter() - t0)
    return round(items / best, 2)


def _compile(module: Any, mode: str, dry: bool) -> Any:
    """torch.compile as the twin runs it; a dry run traces with dynamo but skips inductor's code
    generation (``backend="eager"``), which takes minutes on a small CPU and proves nothing there."""
    import torch

    if dry:
        return torch.compile(module, backend="eager", dynamic=False)
    return torch.compile(module, mode=mode, dynamic=False)


def _cos_min(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min())


def bench_clip(dry: bool, repeat: int) -> dict[str, Any]:
    import torch
    from transformers import CLIPModel

    from vidfast.models.clip import ClipEncoder
    from vidfast.models.preprocess import ImageSpec
    from vidfast.models.tensorrt import tensorrt_reason
    from vidfast.models.tiny_tokenizers import clip_tokenizer

    device, dtype = ("cpu", torch.float32) if dry else ("cuda", torch.float16)
    batch = 4 if dry else 256
    model = build_random(CLIPModel, clip_l14_config(1 if dry else None), device, dtype)
    spec = ImageSpec(224, True, MEAN, STD)
    pixels = torch.randn(batch, 3, 224, 224, device=device, dtype=dtype)
    eager = ClipEncoder.from_model(model, clip_tokenizer(), spec, batch_size=batch)
    res: dict[str, Any] = {"model": "CLIP ViT-L/14 architecture, random weights", "dtype": str(dtype), "batch": batch,
                           "layers_override": 1 if dry else None}  # fmt: skip
    ref = eager.encode_pixels(pixels)
    res["eager_images_per_s"] = per_s(lambda: eager.encode_pixels(pixels), batch, repeat)
    twin_backend = "torch-compile" if dry else "torch-cudagraphs"
    twin = ClipEncoder.from_model(model, clip_tokenizer(), spec, batch_size=batch)
    twin.backend = twin_backend
    from vidfast.models.clip import COMPILE_MODES

    twin.vision = _compile(twin.vision, COMPILE_MODES[twin_backend], dry)
    got = twin.encode_pixels(pixels)
    res["twin"] = twin_backend
    res["twin_cos_min_vs_eager"] = round(_cos_min(got, ref), 6)
    res["twin_images_per_s"] = per_s(lambda: twin.encode_pixels(pixels), batch, repeat)
    res["twin_vs_eager"] = round(res["twin_images_per_s"] / res["eager_images_per_s"], 2)
    reason = tensorrt_reason()
    res["tensorrt"] = reason or "available"
    if reason is None and not dry:
        from vidfast.models.onnx_export import export_onnx
        from vidfast.models.tensorrt import engine_for_onnx

        path = Path(tempfile.mkdtemp(prefix="clip-onnx-")) / "vision.onnx"
        export_onnx(eager.vision, (pixels[:2],), path, ["pixel_values"], {"pixel_values": {0: "batch"}})
        engine = engine_for_onnx(path, "vision", "cuda", batch_sizes=(1, batch))
        out = engine.run(pixel_values=pixels).float().cpu().numpy()
        res["tensorrt_cos_min_vs_eager"] = round(_cos_min(out, ref), 6)
        res["tensorrt_images_per_s"] = per_s(lambda: engine.run(pixel_values=pixels), batch, repeat)
    best = max(v for k, v in res.items() if k.endswith("_images_per_s"))
    res["best_images_per_s"] = best
    res["vs_h100_target_2500"] = None if dry else round(best / H100_CLIP_TARGET, 3)
    return res


def bench_blip2(dry: bool, repeat: int, tokens: int) -> dict[str, Any]:
    res = bench_blip2_full(
        "cpu" if dry else "cuda", 1 if dry else None, 2 if dry else tokens, 1 if dry else repeat
    )
    rates = {
        int(k.removeprefix("captions_batch")): v["per_s"]
        for k, v in res.items()
        if k.startswith("captions_batch")
    }
    res["batched_vs_batch1"] = round(rates[max(rates)] / rates[1], 2)
    res["target_10x_met"] = None if dry else res["batched_vs_batch1"] >= 10
    return res


def bench_tagger(dry: bool, repeat: int) -> dict[str, Any]:
    import torch

    from vidfast.models import load_manifest
    from vidfast.models.tag2text import ImageTaggerConfig, ImageTaggingModel

    if dry:
        arch = dict((load_manifest("ram-tiny").source.embedded or {})["config"])
    else:
        arch = dict(load_manifest("ram-swin-large-14m").architecture)
    device, dtype = ("cpu", torch.float32) if dry else ("cuda", torch.float16)
    model = ImageTaggingModel(ImageTaggerConfig(**arch)).to(device, dtype).eval()
    batch = 2 if dry else 64
    size = arch["image_size"]
    pixels = torch.randn(batch, 3, size, size, device=device, dtype=dtype)
    with torch.inference_mode():
        ref = model(pixels).float().cpu().numpy()
        res: dict[str, Any] = {"model": f"RAM {'tiny' if dry else 'Swin-L 384'}, random weights", "batch": batch,
                               "eager_images_per_s": per_s(lambda: model(pixels), batch, repeat)}  # fmt: skip
        mode = "default" if dry else "reduce-overhead"
        twin = _compile(model, mode, dry)
        got = twin(pixels).float().cpu().numpy()
        res["twin"] = mode
        res["twin_max_abs_logit_diff"] = round(float(np.abs(got - ref).max()), 5)
        res["twin_images_per_s"] = per_s(lambda: twin(pixels), batch, repeat)
    return res


def _synth(path: Path, **opts: Any) -> Path:
    from vidfast.synth.generate import SynthOptions, generate

    if not path.exists():
        generate(path, SynthOptions(**opts))
    return path


def bench_decode(dry: bool, repeat: int, work: Path) -> dict[str, Any]:
    import av

    from vidfast.io.gpu_decode import backend_reasons, decode_frames_dali, decode_frames_nvdec
    from vidfast.io.probe import probe

    if dry:
        path = _synth(work / "decode_dry.webm", codec="vp9", duration=2.0, size=(160, 90), noise=2.0)
    else:
        path = _synth(
            work / "decode_1080p.mp4", codec="h264", duration=8.0, size=(1920, 1080), noise=3.0, crf=23
        )
    info = probe(path, count_frames=True)
    n = info.frame_count
    res: dict[str, Any] = {"video": f"{info.width}x{info.height} {info.codec}", "frames": n}

    def pyav() -> int:
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            s.thread_type = "AUTO"
            return sum(1 for f in c.decode(s) if f.to_ndarray(format="rgb24") is not None)

    assert pyav() == n
    res["pyav_rgb_fps"] = per_s(pyav, n, repeat)
    reasons = backend_reasons()
    frames = np.arange(n)
    dali_device = "cpu" if dry else "gpu"
    dali_reason = reasons["dali"] if dry else reasons["dali-gpu"]
    if dali_reason is None:
        out = decode_frames_dali(path, frames, dali_device)
        assert len(out) == n
        res[f"dali_{dali_device}_fps"] = per_s(
            lambda: decode_frames_dali(path, frames, dali_device), n, repeat
        )
        res[f"dali_{dali_device}_vs_pyav"] = round(res[f"dali_{dali_device}_fps"] / res["pyav_rgb_fps"], 2)
    else:
        res["dali"] = f"skipped: {dali_reason}"
    if reasons["nvdec"] is None and not dry:
        assert len(decode_frames_nvdec(path, frames)) == n
        res["pynvvideocodec_fps"] = per_s(lambda: decode_frames_nvdec(path, frames), n, repeat)
        res["pynvvideocodec_vs_pyav"] = round(res["pynvvideocodec_fps"] / res["pyav_rgb_fps"], 2)
    else:
        res["pynvvideocodec"] = f"skipped: {reasons['nvdec'] or 'dry run'}"
    return res


def _inject_full_size_models(dry: bool) -> dict[str, Any]:
    """Random-weight full-size CLIP ViT-L/14 and BLIP-2 OPT-2.7b as the process's shared models under the
    refs the grounding recipe asks for (so no weights are downloaded); one layer each in a dry run."""
    import torch
    from transformers import Blip2ForConditionalGeneration, CLIPModel

    from vidfast.models.blip2 import Blip2Captioner
    from vidfast.models.clip import ClipEncoder
    from vidfast.models.preprocess import ImageSpec
    from vidfast.models.tiny_tokenizers import clip_tokenizer, opt_tokenizer
    from vidfast.stages.models import shared_model

    device, dtype = ("cpu", "float32") if dry else ("cuda", "float16")
    tdtype = getattr(torch, dtype)
    layers = 1 if dry else None
    clip = ClipEncoder.from_model(build_random(CLIPModel, clip_l14_config(layers), device, tdtype), clip_tokenizer(),
                                  ImageSpec(224, True, MEAN, STD), batch_size=64)  # fmt: skip
    tok = opt_tokenizer(50272, 2048)
    blip = build_random(Blip2ForConditionalGeneration, blip2_opt27_config(tok.convert_tokens_to_ids("<image>"), layers),
                        device, tdtype)  # fmt: skip
    captioner = Blip2Captioner.from_model(blip, tok, ImageSpec(224, False, MEAN, STD), batch_size=16)
    shared_model(("clip", "openai/clip-vit-large-patch14", device, dtype, "torch"), lambda: clip)
    shared_model(("blip2", "Salesforce/blip2-opt-2.7b", device, dtype), lambda: captioner)
    return {"device": device, "dtype": dtype, "layers_override": layers}


def bench_grounding(dry: bool, work: Path) -> dict[str, Any]:
    import vidfast
    from vidfast.io.probe import probe

    models = _inject_full_size_models(dry)
    if dry:
        videos = [_synth(work / "g0.webm", codec="vp9", duration=3.0, size=(160, 90), scenes=3, seed=1)]
    else:
        videos = [_synth(work / f"g{i}.mp4", codec="h264", duration=60.0, size=(1280, 720), scenes=12, seed=i)
                  for i in range(2)]  # fmt: skip
    video_s = sum(probe(v).duration_s for v in videos)
    overrides = [f"models.device={models['device']}", f"models.dtype={models['dtype']}",
                 "grounding.vision_backend=torch", "grounding.caption_max_new_tokens=20"]  # fmt: skip
    t0 = time.perf_counter()
    result = vidfast.run([str(v) for v in videos], work / "grounding-run", recipe="grounding", preset="default",
                         overrides=overrides, progress=False)  # fmt: skip
    wall = time.perf_counter() - t0
    rep = result.report
    return {
        "models": "CLIP ViT-L/14 + BLIP-2 OPT-2.7b, random weights" + (" (1 layer)" if dry else ""),
        **models,
        "videos": len(videos),
        "video_seconds": round(video_s, 1),
        "wall_s": round(wall, 1),
        "video_hours_per_gpu_hour": round(video_s / wall, 2),
        "done": rep["videos"]["done"],
        "failed": rep["videos"]["failed"],
        "stages_busy_s": {k: round(v["busy_s"], 2) for k, v in rep["stages"].items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny sizes: exercise every section")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=20, help="new tokens per BLIP-2 caption")
    parser.add_argument(
        "--budget-s", type=float, default=240.0, help="skip sections once this much time is used"
    )
    args = parser.parse_args(argv)
    dry = args.dry_run
    only = [s for s in args.only.split(",") if s]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; valid: {', '.join(SECTIONS)}")
    import torch

    if not dry and not torch.cuda.is_available():
        print("bench_gpu: no CUDA device; use --dry-run on a CPU machine", file=sys.stderr)
        return 2
    os.environ.setdefault("VIDFAST_CACHE_DIR", tempfile.mkdtemp(prefix="vidfast-gpu-bench-"))
    work = Path(tempfile.mkdtemp(prefix="vidfast-gpu-work-"))
    repeat = 1 if dry else args.repeat
    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "clip": lambda: bench_clip(dry, repeat),
        "blip2": lambda: bench_blip2(dry, 1, args.tokens),  # 64 captions per batch size: one pass is enough
        "tagger": lambda: bench_tagger(dry, repeat),
        "decode": lambda: bench_decode(dry, repeat, work),
        "grounding": lambda: bench_grounding(dry, work),
    }
    payload: dict[str, Any] = {"dry_run": dry, "sections": {}}
    started = time.perf_counter()
    failed = 0
    for name in only:
        if time.perf_counter() - started > args.budget_s:
            payload["sections"][name] = {"skipped": f"time budget of {args.budget_s:.0f} s used up"}
            continue
        t0 = time.perf_counter()
        try:
            out = runs[name]()
        except Exception as exc:  # noqa: BLE001 - one section's failure is recorded; the others still run
            failed += 1
            out = {"error": f"{type(exc).__name__}: {exc}"[:500], "traceback": traceback.format_exc()[-2000:]}
        out["section_s"] = round(time.perf_counter() - t0, 1)
        payload["sections"][name] = out
        print(name, out, flush=True)
        if not dry:
            torch.cuda.empty_cache()
    print(write_result("gpu_check_dry" if dry else "gpu_check", payload))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
