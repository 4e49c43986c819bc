"""Tag2Text / RAM taggers: the forward pass against an independent reference, original checkpoints,
thresholds, the ONNX export, the full-size configs and the recipe's tagger selection.

The reference is built from the original architecture description, not from vidfast's modules:
the Swin image encoder is ``transformers.SwinModel`` (a separate port of the same network) given the
same weights, and the tagging head is written out below with explicit matmul / softmax as the
original BERT "tagging" layer computes it (cross-attention -> residual LayerNorm -> GELU MLP ->
residual LayerNorm), followed by RAM's ``relu(wordvec_proj(label_embed))`` queries and ``fc`` or
Tag2Text's learned queries and group-wise classifier. Weights are random.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidfast.errors import ConfigError
from vidfast.models import load_manifest
from vidfast.models.tag2text import (
    ImageTagger,
    ImageTaggerConfig,
    ImageTaggingModel,
    class_names,
    config_from_state_dict,
    convert_original_state_dict,
    is_tagging_model,
    load_original_checkpoint,
    save_tagger,
    stage_windows,
    tagger_vocabulary,
)

TINY = {
    "image_size": 64, "patch_size": 4, "embed_dim": 16, "depths": [2, 2, 2], "num_heads": [2, 2, 4],
    "window_size": 4, "head_hidden_size": 32, "head_layers": 2, "head_heads": 4, "head_intermediate_size": 64,
}  # fmt: skip
# grids 16, 8, 4 with window 4: the first two stages use shifted windows, the last one window == grid


def tiny_config(variant: str, **extra: object) -> object:
    k = 4585 if variant == "ram" else 3429
    return ImageTaggerConfig(
        variant=variant, vocabulary=variant, num_classes=k, label_dim=24, **TINY, **extra
    )


def randomised(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Every parameter random (LayerNorms and biases too), so no term of the forward is trivial."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.3 if "relative_position_bias_table" in name else 1.0 / math.sqrt(p.shape[-1])
            p.copy_(
                torch.randn(p.shape, generator=g) * scale + (1.0 if name.endswith("norm.weight") else 0.0)
            )
    return model.eval()


# ---- the reference ------------------------------------------------------------------------------------


def hf_swin(cfg: object, state: dict[str, torch.Tensor]) -> torch.nn.Module:
    """``transformers.SwinModel`` with the original-named Swin weights of ``state``."""
    from transformers import SwinConfig, SwinModel

    model = SwinModel(
        SwinConfig(image_size=cfg.image_size, patch_size=cfg.patch_size, embed_dim=cfg.embed_dim,
                   depths=cfg.depths, num_heads=cfg.num_heads, window_size=cfg.window_size, qkv_bias=True,
                   hidden_act="gelu", layer_norm_eps=1e-5, drop_path_rate=0.0),
        add_pooling_layer=True,
    ).eval()  # fmt: skip
    target = model.state_dict()
    new_names = any(".attention.q_proj." in k for k in target)  # transformers 5.x spelling
    out = {}
    for key, value in state.items():
        if not key.startswith("visual_encoder."):
            continue
        k = key[len("visual_encoder.") :]
        k = k.replace("patch_embed.proj.", "embeddings.patch_embeddings.projection.").replace(
            "patch_embed.norm.", "embeddings.norm."
        )
        k = "layernorm." + k[len("norm.") :] if k.startswith("norm.") else k
        k = "encoder." + k if k.startswith("layers.") else k
        k = k.replace(".norm1.", ".layernorm_before.").replace(".norm2.", ".layernorm_after.")
        if ".attn.qkv." in k:
            names = ("q_proj", "k_proj", "v_proj") if new_names else ("self.query", "self.key", "self.value")
            for n, part in zip(names, value.chunk(3)):
                out[k.replace("attn.qkv", f"attention.{n}")] = part
            continue
        if new_names:
            k = k.replace(".attn.proj.", ".attention.o_proj.").replace(
                ".attn.relative_position_bias_table",
                ".attention.relative_position_bias.relative_position_bias_table",
            )
        else:
            k = k.replace(".attn.proj.", ".attention.output.dense.").replace(
                ".attn.relative_position_bias_table", ".attention.self.relative_position_bias_table"
            )
            k = k.replace(".mlp.fc1.", ".intermediate.dense.").replace(".mlp.fc2.", ".output.dense.")
        out[k] = value
    missing = [k for k in target if k not in out and "relative_position_index" not in k]
    assert not missing and set(out) <= set(target), (missing, set(out) - set(target))
    model.load_state_dict(out, strict=False)
    return model


def reference_logits(cfg: object, state: dict[str, torch.Tensor], pixels: torch.Tensor) -> torch.Tensor:
    out = hf_swin(cfg, state)(pixel_values=pixels)
    image = torch.cat([out.pooler_output[:, None], out.last_hidden_state], 1)  # [B, 1+L, C]
    if cfg.variant == "ram":
        image = image @ state["image_proj.weight"].T + state["image_proj.bias"]
        queries = F.relu(state["label_embed"] @ state["wordvec_proj.weight"].T + state["wordvec_proj.bias"])
    else:
        queries = state["label_embed.weight"]
    x = queries[None].expand(len(pixels), -1, -1)
    heads, eps = cfg.head_heads, cfg.head_layer_norm_eps

    def lin(h: torch.Tensor, name: str) -> torch.Tensor:
        return h @ state[name + ".weight"].T + state[name + ".bias"]

    def norm(h: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(h, h.shape[-1:], state[name + ".weight"], state[name + ".bias"], eps)

    for i in range(cfg.head_layers):
        p = f"tagging_head.encoder.layer.{i}."
        b, k, hdim = x.shape
        d = hdim // heads
        q = lin(x, p + "crossattention.self.query").view(b, k, heads, d).transpose(1, 2)
        kk = lin(image, p + "crossattention.self.key").view(b, -1, heads, d).transpose(1, 2)
        v = lin(image, p + "crossattention.self.value").view(b, -1, heads, d).transpose(1, 2)
        probs = torch.softmax(q @ kk.transpose(-1, -2) / math.sqrt(d), dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(b, k, hdim)
        x = norm(lin(ctx, p + "crossattention.output.dense") + x, p + "crossattention.output.LayerNorm")
        ff = lin(F.gelu(lin(x, p + "intermediate.dense")), p + "output.dense")
        x = norm(ff + x, p + "output.LayerNorm")
    if cfg.variant == "ram":
        return (x @ state["fc.weight"].T + state["fc.bias"]).squeeze(-1)
    return (state["fc.W"] * x).sum(-1) + state["fc.b"]


# ---- tests --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["ram", "tag2text"])
def test_forward_matches_the_reference(variant: str) -> None:
    cfg = tiny_config(variant)
    model = randomised(ImageTaggingModel(cfg), seed=1 if variant == "ram" else 2)
    pixels = torch.randn(3, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        got = model(pixels)
        want = reference_logits(cfg, model.state_dict(), pixels)
    assert got.shape == (3, cfg.num_classes)
    assert want.std() > 5e-3 and (want[0] - want[1]).abs().max() > 5e-3  # inputs and classes matter
    assert torch.allclose(got, want, atol=2e-4, rtol=1e-4), (got - want).abs().max()


def test_the_reference_sees_a_broken_shift_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison can fail: without the shifted-window mask the logits move off the reference."""
    cfg = tiny_config("ram")
    model = randomised(ImageTaggingModel(cfg), seed=1)
    pixels = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    block = model.visual_encoder.layers[0].blocks[1]
    monkeypatch.setattr(block, "shift_mask", lambda device: torch.zeros(16, 16, 16, device=device))
    with torch.no_grad():
        assert not torch.allclose(model(pixels), reference_logits(cfg, model.state_dict(), pixels), atol=1e-3)


def original_state(model: torch.nn.Module, old_head_name: bool) -> dict[str, torch.Tensor]:
    """``model``'s weights laid out as an original checkpoint: plus the buffers, caption decoder, tag
    encoder and head self-attention that the tagger drops (Tag2Text's older files say vision_multi)."""
    state = dict(model.state_dict())
    cfg = model.config
    extra = {
        "visual_encoder.layers.0.blocks.0.attn.relative_position_index": torch.zeros(
            16, 16, dtype=torch.long
        ),
        "visual_encoder.layers.0.blocks.1.attn_mask": torch.zeros(16, 16, 16),
        "text_decoder.bert.encoder.layer.0.attention.self.query.weight": torch.zeros(8, 8),
        "tag_encoder.encoder.layer.0.crossattention.self.query.weight": torch.zeros(8, 8),
        "tagging_head.encoder.layer.0.attention.self.query.weight": torch.zeros(cfg.head_hidden_size, 8),
        "tagging_head.embeddings.word_embeddings.weight": torch.zeros(30524, 8),
    }
    state.update(extra)
    if old_head_name:
        state = {k.replace("tagging_head.", "vision_multi.", 1): v for k, v in state.items()}
    return state


@pytest.mark.parametrize("variant", ["ram", "tag2text"])
def test_original_checkpoint_loads_by_its_tensor_names(variant: str, tmp_path: Path) -> None:
    cfg = tiny_config(variant)
    model = randomised(ImageTaggingModel(cfg), seed=4)
    state = original_state(model, old_head_name=variant == "tag2text")
    path = tmp_path / f"{variant}.pth"
    torch.save({"model": state, "epoch": 3}, path)

    inferred = config_from_state_dict(state, image_size=64)
    for key in ("variant", "embed_dim", "depths", "num_heads", "window_size", "head_hidden_size", "head_layers",
                "head_intermediate_size", "num_classes"):  # fmt: skip
        assert inferred[key] == getattr(cfg, key), key
    assert set(convert_original_state_dict(state)) == set(model.state_dict())

    loaded = load_original_checkpoint(path, image_size=64)
    pixels = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(loaded(pixels), model(pixels))
    out = save_tagger(loaded, tmp_path / "converted")  # what `vidfast convert-tagger` writes
    tagger = ImageTagger(str(out), device="cpu", dtype="float32")
    assert tagger.variant == variant and tagger.vocabulary == variant and is_tagging_model(str(out))
    with torch.no_grad():
        assert torch.allclose(tagger.model(pixels), model(pixels), atol=1e-6)


def test_bad_checkpoints_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_original_checkpoint(tmp_path / "missing.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="cannot read tagger checkpoint .*convert-tagger"):
        load_original_checkpoint(tmp_path / "junk.pth")
    torch.save({"model": {"visual_encoder.pos_embed": torch.zeros(1)}}, tmp_path / "vit.pth")
    with pytest.raises(ConfigError, match="only the Swin-based"):
        load_original_checkpoint(tmp_path / "vit.pth")
    with pytest.raises(ConfigError, match="not a multiple of window_size"):
        stage_windows(96, 4, 7, 4)


def test_thresholds_follow_the_original_models() -> None:
    ram = tiny_config("ram")
    file_values = [
        float(x)
        for x in (Path(__file__).parents[2] / "vidfast/data/tags/ram_tag_list_threshold.txt")
        .read_text()
        .split()
    ]
    assert len(file_values) == 4585 and ram.class_thresholds == file_values
    t2t = tiny_config("tag2text")
    assert t2t.class_thresholds[2701] == t2t.class_thresholds[1167] == 0.7 and t2t.class_thresholds[0] == 0.68
    assert len(class_names("ram")) == 4585 and len(class_names("tag2text")) == 3429


@pytest.fixture(scope="module")
def t2t_tiny(model_cache: Path) -> ImageTagger:
    return ImageTagger("embedded:tag2text-tiny", device="cpu", dtype="float32", batch_size=4, top_k=3)


def test_select_applies_thresholds_deleted_classes_and_top_k(t2t_tiny: ImageTagger) -> None:
    probs = np.zeros((2, t2t_tiny.num_classes), np.float32)
    probs[0, [5, 127, 2701, 9, 11, 12]] = [0.9, 0.99, 0.69, 0.8, 0.7, 0.68]  # 127 deleted, 2701 needs > 0.7
    probs[1, 2701] = 0.71
    first, second = t2t_tiny.select(probs)
    assert [t for t, _ in first] == [t2t_tiny.tags[i] for i in (5, 9, 11)]  # best three; 0.68 is not > 0.68
    assert [t for t, _ in second] == [t2t_tiny.tags[2701]]


def test_embedded_tagger_tags_frames_and_onnx_matches(t2t_tiny: ImageTagger, frames: np.ndarray) -> None:
    pytest.importorskip("onnxruntime")
    logits = t2t_tiny.logits(frames[:5])
    assert logits.shape == (5, 3429) and np.isfinite(logits).all()
    ort = ImageTagger(
        "embedded:tag2text-tiny", device="cpu", dtype="float32", backend="onnxruntime", batch_size=4
    )
    assert ort.export_onnx().name == "tagger-float32-opset17.onnx"
    np.testing.assert_allclose(ort.logits(frames[:5]), logits, atol=1e-4)
    low = ImageTagger("embedded:tag2text-tiny", device="cpu", dtype="float32", threshold=0.0, top_k=2)
    tags = low.tag(frames[:2])
    assert [len(t) for t in tags] == [2, 2] and tags[0][0][1] >= tags[0][1][1]
    assert t2t_tiny.tag(frames[:0]) == []


def test_ram_tiny_builds_with_the_ram_vocabulary(model_cache: Path, frames: np.ndarray) -> None:
    ram = ImageTagger("embedded:ram-tiny", device="cpu", dtype="float32", threshold=0.0, top_k=1)
    assert ram.num_classes == 4585 and ram.thresholds.shape == (4585,)
    (tags,) = ram.tag(frames[:1])
    assert tags[0][0] in class_names("ram")


@pytest.mark.parametrize(
    ("name", "params_m"), [("tag2text-swin-14m", (105, 110)), ("ram-swin-large-14m", (205, 218))]
)
def test_full_size_manifests_describe_the_released_architectures(
    name: str, params_m: tuple[int, int]
) -> None:
    manifest = load_manifest(name)
    assert manifest.kind == "tagger" and manifest.source.file and is_tagging_model(name)
    assert tagger_vocabulary(name) == manifest.architecture["vocabulary"]
    cfg = ImageTaggerConfig(**manifest.architecture)
    with torch.device("meta"):
        model = ImageTaggingModel(cfg)
    n = sum(p.numel() for p in model.parameters()) / 1e6
    # Swin-B ~87M (Swin-L ~195M) + two head layers (~7.5M / ~6.9M each) + label embeddings and classifier
    assert params_m[0] < n < params_m[1], n
    inferred = config_from_state_dict(model.state_dict())
    assert {k: inferred[k] for k in manifest.architecture if k in inferred} == {
        k: v for k, v in manifest.architecture.items() if k in inferred
    }


def test_tagger_selection_in_the_videochatgpt_recipe() -> None:
    from vidfast.config import load_config
    from vidfast.recipes.videochatgpt import filter_vocabulary, vision_stages
    from vidfast.stages.tags import ModelTagStage, ZeroShotTagStage

    def tag_stage(**overrides: str) -> object:
        cfg = load_config(
            "embedded", overrides=[f"{k}={v}" for k, v in overrides.items()], recipe="videochatgpt"
        )
        return cfg, next(s for s in vision_stages(cfg, False) if s.name == "frame_tags")

    cfg, stage = tag_stage()
    assert isinstance(stage, ZeroShotTagStage) and filter_vocabulary(cfg) == cfg.videochatgpt.tag_vocabulary
    cfg, stage = tag_stage(**{"models.tagger": "embedded:ram-tiny"})
    assert isinstance(stage, ModelTagStage) and stage.model == "embedded:ram-tiny"
    assert filter_vocabulary(cfg) == "ram"
    assert not is_tagging_model("embedded:clip-tiny") and not is_tagging_model("clip-zero-shot")
