"""Vision models: CLIP image-encoding images/s and BLIP-2 captions/s, batched vs batch-1, torch vs onnxruntime.

Default (CPU, about 1-2 minutes): the embedded tiny CLIP and BLIP-2 (real architectures, random
weights) fed with 360x640 uint8 frames. It times

- preprocessing to 224x224 CLIP input: vidfast.ops (native), torch bicubic, the HF image processor;
- CLIP image encoding from frames (preprocessing included): torch and onnxruntime, batch 64 vs
  batch 1 (the originals encoded one video or one caption batch per forward; batch 1 is the floor);
- BLIP-2 captions (greedy, ``--tokens`` new tokens each, forced): batch 16 vs batch 1.

Outputs are checked before timing (onnxruntime vs torch max |diff|; batched vs batch-1 embeddings and
captions). ``--full`` builds FULL-SIZE architectures with random weights from the real configs (CLIP
ViT-L/14; BLIP-2 ViT-g + Q-Former + OPT-2.7b) without downloading anything: on a GPU it reports fp16
images/s (against the 2,500 images/s H100 target) and captions/s; on a CPU it only smoke-checks
CLIP ViT-L/14 at batch 1 (BLIP-2 at full size needs ~15 GB to build and is skipped).

    python bench/bench_vision.py [--full] [--quick] [--tokens 20]

Writes bench/results/vision.json. ``*_per_s`` are rates over wall time (best of ``--repeat``);
``cpu_ms_per_item`` is process CPU time per item, which stays meaningful on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import write_result

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
H100_CLIP_FP16_TARGET = 2500.0  # images/s, CLIP ViT-L/14 fp16 on one H100 (project target)


def rate(fn: Callable[[], Any], items: int, repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` items/s after one warm-up, plus process CPU ms per item of the last run."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best, cpu = min(best, time.perf_counter() - t0), time.process_time() - c0
    return {"per_s": round(items / best, 2), "cpu_ms_per_item": round(1000 * cpu / items, 3)}


def make_frames(n: int, h: int = 360, w: int = 640, seed: int = 0) -> np.ndarray:
    """Deterministic natural-ish frames: gradients, a moving block and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        img = np.stack([x * 0.4 + i, y * 0.6, (x + y) * 0.25 + 3 * i], -1) + rng.normal(0, 8, (h, w, 3))
        top, left = (7 * i) % (h - 60), (13 * i) % (w - 80)
        img[top : top + 60, left : left + 80] = (200, 40, 40)
        out[i] = np.clip(img, 0, 255)
    return out


# ---------------------------------------------------------------- tiny models on CPU


def bench_preprocess(frames: np.ndarray, repeat: int) -> dict[str, Any]:
    from vidfast.models.preprocess import ImageSpec, pixel_values

    spec = ImageSpec(224, True, MEAN, STD)
    res = {m: rate(lambda m=m: pixel_values(frames, spec, m), len(frames), repeat) for m in ("ops", "torch")}
    try:
        from transformers import CLIPImageProcessor

        hf = CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224})
        ref = hf(images=list(frames), return_tensors="pt")["pixel_values"]
        res["hf_processor"] = rate(lambda: hf(images=list(frames), return_tensors="pt"), len(frames), repeat)
        for m in ("ops", "torch"):
            res[m]["mean_abs_diff_vs_hf"] = round(
                float((pixel_values(frames, spec, m) - ref).abs().mean()), 5
            )
    except ImportError as exc:  # PIL missing
        res["hf_processor"] = f"skipped: {exc}"
    return res


def bench_clip_tiny(frames: np.ndarray, repeat: int) -> dict[str, Any]:
    import torch

    from vidfast.models.clip import ClipEncoder

    threads = torch.get_num_threads()
    enc = {
        b: ClipEncoder(
            "embedded:clip-tiny", device="cpu", dtype="float32", backend=b, batch_size=64, ort_threads=threads
        )
        for b in ("torch", "onnxruntime")
    }
    ref = enc["torch"].encode_images(frames)
    checks = {
        "onnxruntime_vs_torch_max_abs": float(np.abs(enc["onnxruntime"].encode_images(frames) - ref).max())
    }
    res: dict[str, Any] = {"checks": checks, "frames": list(frames.shape)}
    for name, e in enc.items():
        for batch in (64, 1):
            e.batch_size = batch
            res[f"{name}_batch{batch}"] = rate(lambda e=e: e.encode_images(frames), len(frames), repeat)
        e.batch_size = 1
        checks[f"{name}_batch1_vs_batch64_max_abs"] = float(np.abs(e.encode_images(frames) - ref).max())
    res["onnxruntime_vs_torch_batched"] = round(
        res["onnxruntime_batch64"]["per_s"] / res["torch_batch64"]["per_s"], 2
    )
    res["batched_vs_batch1_torch"] = round(res["torch_batch64"]["per_s"] / res["torch_batch1"]["per_s"], 2)
    return res


def bench_blip2_tiny(frames: np.ndarray, tokens: int, repeat: int) -> dict[str, Any]:
    from vidfast.models.blip2 import Blip2Captioner

    cap = Blip2Captioner("embedded:blip2-tiny", device="cpu", dtype="float32", batch_size=16)
    kw = {"max_new_tokens": tokens, "min_new_tokens": tokens}
    batched = cap.caption(list(frames), **kw)
    cap.batch_size = 1
    res: dict[str, Any] = {
        "checks": {"batched_equals_batch1": batched == cap.caption(list(frames), **kw)},
        "frames": len(frames),
        "new_tokens": tokens,
    }
    for batch in (16, 1):
        cap.batch_size = batch
        res[f"torch_batch{batch}"] = rate(lambda: cap.caption(list(frames), **kw), len(frames), repeat)
    res["batched_vs_batch1"] = round(res["torch_batch16"]["per_s"] / res["torch_batch1"]["per_s"], 2)
    return res


# ---------------------------------------------------------------- full-size architectures


def clip_l14_config(layers: int | None = None) -> Any:
    """openai/clip-vit-large-patch14's architecture (layers overridable for a dry run)."""
    from transformers import CLIPConfig

    text = {
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": layers or 12,
        "num_attention_heads": 12,
        "vocab_size": 49408,
        "max_position_embeddings": 77,
        "bos_token_id": 49406,
        "eos_token_id": 49407,
        "hidden_act": "quick_gelu",
        "projection_dim": 768,
    }
    vision = {
        "hidden_size": 1024,
        "intermediate_size": 4096,
        "num_hidden_layers": layers or 24,
        "num_attention_heads": 16,
        "image_size": 224,
        "patch_size": 14,
        "hidden_act": "quick_gelu",
        "projection_dim": 768,
    }
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=768)


def blip2_opt27_config(image_token_index: int, layers: int | None = None) -> Any:
    """Salesforce/blip2-opt-2.7b's architecture: ViT-g/14 (1408, 39 layers), Q-Former (32 queries), OPT-2.7b."""
    from transformers import Blip2Config

    vision = {
        "hidden_size": 1408,
        "intermediate_size": 6144,
        "num_hidden_layers": layers or 39,
        "num_attention_heads": 16,
        "image_size": 224,
        "patch_size": 14,
        "qkv_bias": True,
    }
    qformer = {
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": layers or 12,
        "num_attention_heads": 12,
        "encoder_hidden_size": 1408,
        "cross_attention_frequency": 2,
    }
    text = {
        "model_type": "opt",
        "hidden_size": 2560,
        "ffn_dim": 10240,
        "num_hidden_layers": layers or 32,
        "num_attention_heads": 32,
        "word_embed_proj_dim": 2560,
        "vocab_size": 50272,
        "max_position_embeddings": 2048,
        "bos_token_id": 2,
        "eos_token_id": 2,
        "pad_token_id": 1,
    }
    return Blip2Config(
        vision_config=vision,
        qformer_config=qformer,
        text_config=text,
        num_query_tokens=32,
        image_token_index=image_token_index,
    )


def build_random(cls: Any, config: Any, device: str, dtype: Any) -> Any:
    """Instantiate ``cls(config)`` with random weights directly on ``device`` (seeded), then cast."""
    import torch

    torch.manual_seed(0)
    with torch.device(device):
        model = cls(config)
    model = model.to(dtype).eval()
    if hasattr(model, "qformer"):  # as from_pretrained does for BLIP-2 (_keep_in_fp32_modules)
        model.qformer.float()
        model.query_tokens.data = model.query_tokens.data.float()
    return model


def bench_clip_full(device: str, layers: int | None, repeat: int) -> dict[str, Any]:
    import torch
    from transformers import CLIPModel

    from vidfast.models.clip import ClipEncoder
    from vidfast.models.preprocess import ImageSpec
    from vidfast.models.tiny_tokenizers import clip_tokenizer

    dtype = torch.float16 if device == "cuda" else torch.float32
    t0 = time.perf_counter()
    model = build_random(CLIPModel, clip_l14_config(layers), device, dtype)
    enc = ClipEncoder.from_model(model, clip_tokenizer(), ImageSpec(224, True, MEAN, STD))
    res: dict[str, Any] = {
        "model": "CLIP ViT-L/14 architecture, random weights",
        "dtype": str(dtype),
        "build_s": round(time.perf_counter() - t0, 1),
        "layers_override": layers,
        "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
    }
    if device != "cuda":
        frame = make_frames(1)
        res["cpu_smoke_batch1"] = rate(lambda: enc.encode_images(frame), 1, 1)
        res["embedding_shape"] = list(enc.encode_images(frame).shape)
        return res
    for batch in (1, 64, 256):
        pixels = torch.randn(batch, 3, 224, 224, device=device, dtype=dtype)
        enc.batch_size = batch
        res[f"model_only_fp16_batch{batch}"] = rate(lambda p=pixels: enc.encode_pixels(p), batch, repeat)
    frames = torch.from_numpy(make_frames(256)).to(device)
    enc.batch_size = 256
    res["frames_to_embeds_fp16_batch256"] = rate(lambda: enc.encode_images(frames), 256, repeat)
    best = res["model_only_fp16_batch256"]["per_s"]
    res["vs_h100_target_2500"] = round(best / H100_CLIP_FP16_TARGET, 3)
    return res


def bench_blip2_full(device: str, layers: int | None, tokens: int, repeat: int) -> dict[str, Any]:
    import torch
    from transformers import Blip2ForConditionalGeneration

    from vidfast.models.blip2 import Blip2Captioner
    from vidfast.models.preprocess import ImageSpec
    from vidfast.models.tiny_tokenizers import opt_tokenizer

    dtype = torch.float16 if device == "cuda" else torch.float32
    tok = opt_tokenizer(50272, 2048)
    t0 = time.perf_counter()
    model = build_random(
        Blip2ForConditionalGeneration,
        blip2_opt27_config(tok.convert_tokens_to_ids("<image>"), layers),
        device,
        dtype,
    )
    cap = Blip2Captioner.from_model(model, tok, ImageSpec(224, False, MEAN, STD))
    res: dict[str, Any] = {
        "model": "BLIP-2 OPT-2.7b architecture, random weights",
        "dtype": str(dtype),
        "build_s": round(time.perf_counter() - t0, 1),
        "layers_override": layers,
        "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
        "new_tokens": tokens,
    }
    kw = {"max_new_tokens": tokens, "min_new_tokens": tokens}
    n = 64 if device == "cuda" else 2
    frames = torch.from_numpy(make_frames(n)).to(device)
    for batch in (1, 32, 64) if device == "cuda" else (1, 2):
        cap.batch_size = batch
        res[f"captions_batch{batch}"] = rate(lambda: cap.caption(frames, **kw), n, repeat)
    return res


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--full", action="store_true", help="also full-size architectures (GPU; CPU: CLIP smoke)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer frames and repeats")
    parser.add_argument("--tokens", type=int, default=20, help="new tokens per caption")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch/onnxruntime CPU threads (1: on a shared 2-core machine more threads only spin)",
    )
    parser.add_argument(
        "--dry-layers",
        type=int,
        default=None,
        help="build the full-size configs with this many layers (checks the --full code path)",
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("VIDFAST_CACHE_DIR", tempfile.mkdtemp(prefix="vidfast-bench-"))
    n = 16 if args.quick else 64
    frames = make_frames(n)
    out: dict[str, Any] = {"torch_threads": torch.get_num_threads(), "frame_size": [360, 640]}
    out["preprocess_224"] = bench_preprocess(frames, args.repeat)
    out["clip_tiny_cpu"] = bench_clip_tiny(frames, args.repeat)
    out["blip2_tiny_cpu"] = bench_blip2_tiny(frames[: (8 if args.quick else 32)], args.tokens, args.repeat)
    if args.full or args.dry_layers:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        out["clip_full"] = bench_clip_full(device, args.dry_layers, args.repeat)
        if device == "cuda" or args.dry_layers:
            out["blip2_full"] = bench_blip2_full(device, args.dry_layers, args.tokens, args.repeat)
        else:
            out["blip2_full"] = "skipped: no GPU (a full-size build needs ~15 GB of host memory)"
    path = write_result("vision-dry" if args.dry_layers else "vision", out)
    print(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
