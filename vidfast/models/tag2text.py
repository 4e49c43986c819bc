"""Tag2Text and RAM image taggers: a Swin image encoder and a Query2Label-style tagging head.

The architecture of the recognize-anything models (Tag2Text: Swin-B/384, 3,429 classes; RAM: Swin-L/384,
4,585 classes), rebuilt from standard parts so the original checkpoints load:

- image encoder: Swin (v1: shifted windows, relative position bias, patch merging); its tokens
  ``[B, L, C]`` after the final LayerNorm are prefixed with their average (``[B, 1 + L, C]``), as the
  original encoder returns them. It is written here (with ``scaled_dot_product_attention``) rather than
  taken from ``transformers.SwinModel`` because transformers renames Swin's tensors between releases
  (``attention.self.query`` in 4.x, ``attention.q_proj`` in 5.x); with the original names a saved
  tagger loads under any version, and the original checkpoints load without renaming. The tests check
  it against ``transformers.SwinModel``;
- RAM only: ``image_proj`` (``C -> 512``), and label queries ``relu(wordvec_proj(label_embed))`` where
  ``label_embed`` holds the frozen CLIP text embeddings of the tag names (512-d);
- Tag2Text: learned label queries ``label_embed`` (``nn.Embedding``, hidden-size wide);
- tagging head: BERT layers without self-attention (label queries cross-attend the image tokens, then
  the feed-forward block, each with a residual LayerNorm), no embedding layer;
- classifier: RAM ``fc`` (one linear to a single logit shared by every class), Tag2Text a group-wise
  linear (one weight row and bias per class: ``fc.W [1, K, H]``, ``fc.b [1, K]``).

The model returns per-class logits ``[B, K]``; thresholds are applied outside (so they stay tunable and
the ONNX/TensorRT graph has no boolean outputs). Tensor names equal the original checkpoints';
``convert_original_state_dict`` only drops what the tagger does not use (caption decoder, tag encoder,
rebuilt buffers). ``ImageTagger`` is the runtime: preprocessing, batching, torch / onnxruntime /
TensorRT, the per-class thresholds and the tag names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vidfast.errors import BackendUnavailable, ConfigError
from vidfast.semiauto.tags import TAGS_DIR, VOCABULARY_FILES

VARIANTS = ("tag2text", "ram")
MODEL_TYPE = "vidfast-image-tagger"
CHECKPOINT_SUFFIXES = (".pth", ".pt")
# recognize-anything: Tag2Text's threshold overrides (tag index -> threshold) and RAM's threshold file
TAG2TEXT_THRESHOLDS = {2701: 0.7, 2828: 0.7, 1167: 0.7}
RAM_THRESHOLD_FILE = "ram_tag_list_threshold.txt"


def class_names(vocabulary: str) -> list[str]:
    """The tag of every class index (line ``i`` of the vocabulary file is class ``i``; nothing removed)."""
    if vocabulary not in VOCABULARY_FILES:
        raise ConfigError(f"unknown tag vocabulary {vocabulary!r}; valid: {', '.join(VOCABULARY_FILES)}")
    path = TAGS_DIR / VOCABULARY_FILES[vocabulary]
    try:
        return [t.strip() for t in path.read_text(encoding="utf-8").splitlines()]
    except OSError as exc:
        raise ConfigError(f"tag vocabulary {path} is missing ({exc}); reinstall vidfast") from exc


def default_thresholds(variant: str, num_classes: int, threshold: float) -> list[float]:
    """Per-class thresholds as the original models use them: RAM's file, Tag2Text's three overrides."""
    out = [float(threshold)] * num_classes
    if variant == "ram":
        path = TAGS_DIR / RAM_THRESHOLD_FILE
        values = [float(s) for s in path.read_text(encoding="utf-8").split()]
        for i, v in enumerate(values[:num_classes]):
            out[i] = v
    else:
        for i, v in TAG2TEXT_THRESHOLDS.items():
            if i < num_classes:
                out[i] = v
    return out


def _config_class() -> type:
    from transformers import PretrainedConfig

    class ImageTaggerConfig(PretrainedConfig):
        """Hyper-parameters of a Tag2Text / RAM tagger (flat, so it round-trips through config.json)."""

        model_type = MODEL_TYPE

        def __init__(
            self,
            variant: str = "ram",
            image_size: int = 384,
            patch_size: int = 4,
            embed_dim: int = 192,
            depths: list[int] | None = None,
            num_heads: list[int] | None = None,
            window_size: int = 12,
            head_hidden_size: int = 768,
            head_layers: int = 2,
            head_heads: int = 4,
            head_intermediate_size: int = 3072,
            head_layer_norm_eps: float = 1e-12,
            label_dim: int = 512,
            num_classes: int = 4585,
            vocabulary: str = "ram",
            threshold: float = 0.68,
            class_thresholds: list[float] | None = None,
            delete_tag_index: list[int] | None = None,
            **kwargs: Any,
        ) -> None:
            super().__init__(**kwargs)
            if variant not in VARIANTS:
                raise ConfigError(f"unknown tagger variant {variant!r}; valid: {', '.join(VARIANTS)}")
            self.variant, self.image_size, self.patch_size = variant, int(image_size), int(patch_size)
            self.embed_dim, self.window_size = int(embed_dim), int(window_size)
            self.depths = list(depths or [2, 2, 18, 2])
            self.num_heads = list(num_heads or [6, 12, 24, 48])
            self.head_hidden_size, self.head_layers = int(head_hidden_size), int(head_layers)
            self.head_heads, self.head_intermediate_size = int(head_heads), int(head_intermediate_size)
            self.head_layer_norm_eps, self.label_dim = float(head_layer_norm_eps), int(label_dim)
            self.num_classes, self.vocabulary, self.threshold = int(num_classes), vocabulary, float(threshold)
            self.class_thresholds = (
                list(class_thresholds)
                if class_thresholds
                else default_thresholds(variant, num_classes, threshold)
            )
            self.delete_tag_index = list(delete_tag_index or [])

        @property
        def vision_width(self) -> int:
            return self.embed_dim * 2 ** (len(self.depths) - 1)

    return ImageTaggerConfig


def stage_windows(image_size: int, patch_size: int, window_size: int, stages: int) -> list[tuple[int, int]]:
    """``(grid, window)`` of every Swin stage. As in the original, a stage whose grid is not larger than
    the window uses the whole grid as its window (and no shift); every grid must divide by its window."""
    if image_size % patch_size:
        raise ConfigError(f"image_size {image_size} is not a multiple of patch_size {patch_size}")
    out, grid = [], image_size // patch_size
    for stage in range(stages):
        window = min(window_size, grid)
        if grid % window or (stage < stages - 1 and grid % 2):
            raise ConfigError(
                f"Swin stage {stage} has a {grid}x{grid} grid, not a multiple of window_size {window} "
                "(or odd before a patch merge); pick image_size/patch_size/window_size so it divides"
            )
        out.append((grid, window))
        grid //= 2
    return out


_CLASSES: dict[str, type] = {}


def tagger_classes() -> tuple[type, type]:
    """``(ImageTaggerConfig, ImageTaggingModel)``, built once (transformers is imported lazily)."""
    if not _CLASSES:
        _build_classes()
    return _CLASSES["config"], _CLASSES["model"]


def _build_classes() -> None:
    import torch
    import torch.nn.functional as F
    from torch import nn
    from transformers import PreTrainedModel

    config_cls = _config_class()

    class _Mlp(nn.Module):
        def __init__(self, dim: int, hidden: int) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc2(F.gelu(self.fc1(x)))

    class _WindowAttention(nn.Module):
        """Multi-head attention inside windows, with a learned bias per relative offset and head."""

        def __init__(self, dim: int, window: int, heads: int) -> None:
            super().__init__()
            self.heads, self.window = heads, window
            self.qkv = nn.Linear(dim, dim * 3)
            self.proj = nn.Linear(dim, dim)
            self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))

        def bias(self, device: Any) -> torch.Tensor:
            """``[heads, N, N]`` relative-position bias of one window. The index is rebuilt per call
            (a few thousand integers) instead of kept in a buffer: transformers does not restore
            non-persistent buffers when it loads weights, and compile / ONNX fold it to a constant."""
            w = self.window
            r = torch.arange(w, device=device)
            dy = (r.view(w, 1, 1, 1) - r.view(1, 1, w, 1)) + (w - 1)  # token (y1,x1) vs (y2,x2)
            dx = (r.view(1, w, 1, 1) - r.view(1, 1, 1, w)) + (w - 1)
            index = (dy * (2 * w - 1) + dx).reshape(-1)
            return self.relative_position_bias_table[index].view(w * w, w * w, -1).permute(2, 0, 1)

        def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
            b, nw, n, c = x.shape  # [batch, windows, tokens per window, channels]
            qkv = self.qkv(x).view(b, nw, n, 3, self.heads, c // self.heads).permute(3, 0, 1, 4, 2, 5)
            bias = self.bias(x.device).unsqueeze(0)  # [1, heads, N, N]
            if mask is not None:
                bias = bias + mask.unsqueeze(1)  # [windows, heads, N, N]
            out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=bias.to(x.dtype))
            return self.proj(out.transpose(2, 3).reshape(b, nw, n, c))

    class _SwinBlock(nn.Module):
        def __init__(self, dim: int, grid: int, window: int, heads: int, shift: int) -> None:
            super().__init__()
            self.grid, self.window, self.shift = grid, window, shift
            self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
            self.attn = _WindowAttention(dim, window, heads)
            self.mlp = _Mlp(dim, 4 * dim)

        def shift_mask(self, device: Any) -> torch.Tensor:
            """``[windows, N, N]``: -100 between tokens that came from different image regions before
            the cyclic shift (three bands per axis: ``[0, G-w)``, ``[G-w, G-s)``, ``[G-s, G)``)."""
            g, w, s = self.grid, self.window, self.shift
            idx = torch.arange(g, device=device)
            band = (idx >= g - w).long() + (idx >= g - s).long()
            region = (band.view(g, 1) * 3 + band.view(1, g)).view(1, g, g, 1)
            r = self._windows(region).view(-1, w * w)
            return (r[:, None, :] != r[:, :, None]).float() * -100.0

        def _windows(self, x: torch.Tensor) -> torch.Tensor:
            """``[B, G, G, C]`` -> ``[B, windows, window*window, C]``."""
            b, g, _, c = x.shape
            w = self.window
            return x.view(b, g // w, w, g // w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(b, -1, w * w, c)

        def _unwindows(self, x: torch.Tensor) -> torch.Tensor:
            b, _, _, c = x.shape
            g, w = self.grid, self.window
            return x.view(b, g // w, g // w, w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(b, g, g, c)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, n, c = x.shape
            h = self.norm1(x).view(b, self.grid, self.grid, c)
            if self.shift:
                h = torch.roll(h, (-self.shift, -self.shift), (1, 2))
            mask = self.shift_mask(x.device) if self.shift else None
            h = self._unwindows(self.attn(self._windows(h), mask))
            if self.shift:
                h = torch.roll(h, (self.shift, self.shift), (1, 2))
            x = x + h.reshape(b, n, c)
            return x + self.mlp(self.norm2(x))

    class _PatchMerging(nn.Module):
        def __init__(self, dim: int, grid: int) -> None:
            super().__init__()
            self.grid = grid
            self.norm = nn.LayerNorm(4 * dim)
            self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, _, c = x.shape
            x = x.view(b, self.grid, self.grid, c)
            x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
            return self.reduction(self.norm(x.view(b, -1, 4 * c)))

    class _Stage(nn.Module):
        def __init__(self, dim: int, grid: int, window: int, depth: int, heads: int, merge: bool) -> None:
            super().__init__()
            shift = window // 2 if grid > window else 0
            self.blocks = nn.ModuleList(
                [_SwinBlock(dim, grid, window, heads, shift if i % 2 else 0) for i in range(depth)]
            )
            self.downsample = _PatchMerging(dim, grid) if merge else None

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for block in self.blocks:
                x = block(x)
            return self.downsample(x) if self.downsample is not None else x

    class _PatchEmbed(nn.Module):
        def __init__(self, patch: int, dim: int) -> None:
            super().__init__()
            self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
            self.norm = nn.LayerNorm(dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.norm(self.proj(x).flatten(2).transpose(1, 2))

    class SwinEncoder(nn.Module):
        """Swin v1 backbone: ``[B, 3, S, S]`` -> ``[B, 1 + L, C]`` (mean token, then the final tokens)."""

        def __init__(self, cfg: Any) -> None:
            super().__init__()
            windows = stage_windows(cfg.image_size, cfg.patch_size, cfg.window_size, len(cfg.depths))
            self.patch_embed = _PatchEmbed(cfg.patch_size, cfg.embed_dim)
            self.layers = nn.ModuleList(
                [
                    _Stage(cfg.embed_dim * 2**i, grid, window, depth, heads, i < len(cfg.depths) - 1)
                    for i, ((grid, window), depth, heads) in enumerate(
                        zip(windows, cfg.depths, cfg.num_heads)
                    )
                ]
            )
            self.norm = nn.LayerNorm(cfg.vision_width)

        def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
            x = self.patch_embed(pixel_values)
            for stage in self.layers:
                x = stage(x)
            x = self.norm(x)
            return torch.cat([x.mean(dim=1, keepdim=True), x], dim=1)

    class _Linear(nn.Module):
        """``dense`` + optional residual ``LayerNorm`` (names as in BERT: ``dense``, ``LayerNorm``)."""

        def __init__(self, d_in: int, d_out: int, eps: float | None) -> None:
            super().__init__()
            self.dense = nn.Linear(d_in, d_out)
            if eps is not None:
                self.LayerNorm = nn.LayerNorm(d_out, eps=eps)

    class _CrossProjections(nn.Module):
        def __init__(self, hidden: int, width: int) -> None:
            super().__init__()
            self.query = nn.Linear(hidden, hidden)
            self.key = nn.Linear(width, hidden)
            self.value = nn.Linear(width, hidden)

    class _CrossAttention(nn.Module):
        def __init__(self, hidden: int, width: int, heads: int, eps: float) -> None:
            super().__init__()
            self.heads = heads
            self.self = _CrossProjections(hidden, width)
            self.output = _Linear(hidden, hidden, eps)

        def forward(self, queries: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
            b, k, h = queries.shape
            d = h // self.heads

            def split(x: torch.Tensor) -> torch.Tensor:
                return x.view(b, -1, self.heads, d).transpose(1, 2)

            q, key, value = (
                split(self.self.query(queries)),
                split(self.self.key(memory)),
                split(self.self.value(memory)),
            )
            ctx = F.scaled_dot_product_attention(q, key, value).transpose(1, 2).reshape(b, k, h)
            return self.output.LayerNorm(self.output.dense(ctx) + queries)

    class _HeadLayer(nn.Module):
        def __init__(self, cfg: Any, width: int) -> None:
            super().__init__()
            hidden, eps = cfg.head_hidden_size, cfg.head_layer_norm_eps
            self.crossattention = _CrossAttention(hidden, width, cfg.head_heads, eps)
            self.intermediate = _Linear(hidden, cfg.head_intermediate_size, None)
            self.output = _Linear(cfg.head_intermediate_size, hidden, eps)

        def forward(self, queries: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
            x = self.crossattention(queries, memory)
            y = self.output.dense(F.gelu(self.intermediate.dense(x)))
            return self.output.LayerNorm(y + x)

    class _Encoder(nn.Module):
        def __init__(self, cfg: Any, width: int) -> None:
            super().__init__()
            self.layer = nn.ModuleList([_HeadLayer(cfg, width) for _ in range(cfg.head_layers)])

    class GroupWiseLinear(nn.Module):
        """One weight row and bias per class: ``logit[b, k] = W[k] . x[b, k] + b[k]``."""

        def __init__(self, classes: int, hidden: int) -> None:
            super().__init__()
            self.W = nn.Parameter(torch.zeros(1, classes, hidden))
            self.b = nn.Parameter(torch.zeros(1, classes))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (self.W * x).sum(-1) + self.b

    class TaggingHead(nn.Module):
        """Label queries cross-attending image tokens (BERT layers with self-attention removed)."""

        def __init__(self, cfg: Any, width: int) -> None:
            super().__init__()
            self.encoder = _Encoder(cfg, width)

        def forward(self, queries: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
            for layer in self.encoder.layer:
                queries = layer(queries, memory)
            return queries

    class ImageTaggingModel(PreTrainedModel):
        """pixel_values ``[B, 3, S, S]`` (ImageNet-normalised) -> per-class logits ``[B, K]``."""

        config_class = config_cls
        base_model_prefix = "tagger"
        main_input_name = "pixel_values"

        def __init__(self, config: Any) -> None:
            super().__init__(config)
            self.visual_encoder = SwinEncoder(config)
            hidden, k = config.head_hidden_size, config.num_classes
            if config.variant == "ram":
                self.image_proj = nn.Linear(config.vision_width, config.label_dim)
                self.label_embed = nn.Parameter(torch.zeros(k, config.label_dim))
                self.wordvec_proj = (
                    nn.Linear(config.label_dim, hidden) if hidden != config.label_dim else nn.Identity()
                )
                self.fc = nn.Linear(hidden, 1)
                width = config.label_dim
            else:
                self.label_embed = nn.Embedding(k, hidden)
                self.fc = GroupWiseLinear(k, hidden)
                width = config.vision_width
            self.tagging_head = TaggingHead(config, width)
            self.post_init()

        def _init_weights(self, module: Any) -> None:
            std = 0.02
            with torch.no_grad():
                if isinstance(module, nn.Linear):
                    module.weight.normal_(0, std)
                    if module.bias is not None:
                        module.bias.zero_()
                elif isinstance(module, nn.LayerNorm):
                    module.weight.fill_(1.0)
                    module.bias.zero_()
                elif isinstance(module, nn.Embedding):
                    module.weight.normal_(0, std)
                elif isinstance(module, GroupWiseLinear):
                    bound = 1.0 / math.sqrt(module.W.shape[-1])
                    module.W.uniform_(-bound, bound)
                    module.b.uniform_(-bound, bound)
                elif module is self and isinstance(self.label_embed, nn.Parameter):
                    self.label_embed.normal_(0, 1.0 / math.sqrt(self.config.label_dim))
                elif isinstance(module, _WindowAttention):
                    module.relative_position_bias_table.normal_(0, std)

        def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
            memory = self.visual_encoder(pixel_values)
            b = memory.shape[0]
            if self.config.variant == "ram":
                memory = self.image_proj(memory)
                queries = F.relu(self.wordvec_proj(self.label_embed))
            else:
                queries = self.label_embed.weight
            queries = queries.unsqueeze(0).expand(b, -1, -1).to(memory.dtype)
            hidden = self.tagging_head(queries, memory)
            return self.fc(hidden).squeeze(-1) if self.config.variant == "ram" else self.fc(hidden)

    _CLASSES["config"], _CLASSES["model"] = config_cls, ImageTaggingModel
    try:  # lets AutoConfig / AutoModel read a saved tagger directory too
        from transformers import AutoConfig, AutoModel

        AutoConfig.register(MODEL_TYPE, config_cls)
        AutoModel.register(config_cls, ImageTaggingModel)
    except ValueError:  # already registered
        pass


def ImageTaggerConfig(**kwargs: Any) -> Any:
    """An ``ImageTaggerConfig`` (for manifests: ``config_class: vidfast.models.tag2text.ImageTaggerConfig``)."""
    return tagger_classes()[0](**kwargs)


def ImageTaggingModel(config: Any) -> Any:
    """A randomly initialised ``ImageTaggingModel`` for ``config``."""
    return tagger_classes()[1](config)


# ---- original checkpoints -------------------------------------------------------------------------------

_USED_PREFIXES = ("visual_encoder.", "tagging_head.", "image_proj.", "label_embed", "wordvec_proj.", "fc.")


def convert_original_state_dict(state: dict[str, Any]) -> dict[str, Any]:
    """The tensors of an original Tag2Text/RAM state dict (``checkpoint['model']``) the tagger uses.

    Names are kept (``vision_multi.*`` of older checkpoints becomes ``tagging_head.*``); dropped are
    the rebuilt Swin buffers (``relative_position_index``, ``attn_mask``), the caption decoder, the
    tag encoder and the head's removed self-attention and embeddings.
    """
    out: dict[str, Any] = {}
    for key, value in state.items():
        if key.startswith("vision_multi."):
            key = "tagging_head." + key[len("vision_multi.") :]
        if not key.startswith(_USED_PREFIXES) or key.endswith(("relative_position_index", "attn_mask")):
            continue
        if key.startswith("tagging_head.") and not re.search(
            r"\.layer\.\d+\.(crossattention|intermediate|output)\.", key
        ):
            continue
        out[key] = value
    return out


def config_from_state_dict(
    state: dict[str, Any], image_size: int = 384, head_heads: int = 4
) -> dict[str, Any]:
    """``ImageTaggerConfig`` keyword arguments read off an original state dict's tensor shapes.

    ``image_size`` and the head's attention-head count are not in the weights (384 and 4 for every
    released Tag2Text/RAM checkpoint)."""
    variant = "ram" if "image_proj.weight" in state else "tag2text"
    if "visual_encoder.patch_embed.proj.weight" not in state:
        raise ConfigError(
            "the checkpoint has no visual_encoder.patch_embed.proj.weight: only the Swin-based "
            "Tag2Text/RAM checkpoints (tag2text_swin_14m.pth, ram_swin_large_14m.pth) are supported"
        )
    proj = state["visual_encoder.patch_embed.proj.weight"]
    depths, heads = [], []
    stage = 0
    while any(k.startswith(f"visual_encoder.layers.{stage}.") for k in state):
        blocks = {
            int(m[1])
            for k in state
            if (m := re.match(rf"visual_encoder\.layers\.{stage}\.blocks\.(\d+)\.", k))
        }
        depths.append(len(blocks))
        table = state[f"visual_encoder.layers.{stage}.blocks.0.attn.relative_position_bias_table"]
        heads.append(int(table.shape[1]))
        stage += 1
    table = state["visual_encoder.layers.0.blocks.0.attn.relative_position_bias_table"]
    window = (math.isqrt(int(table.shape[0])) + 1) // 2  # the table has (2w - 1)^2 rows
    head_key = (
        "tagging_head.encoder.layer"
        if any(k.startswith("tagging_head.") for k in state)
        else "vision_multi.encoder.layer"
    )
    layers = {int(m[1]) for k in state if (m := re.match(rf"{re.escape(head_key)}\.(\d+)\.", k))}
    inter = state[f"{head_key}.0.intermediate.dense.weight"]
    label = state["label_embed"] if variant == "ram" else state["label_embed.weight"]
    num_classes = int(label.shape[0])
    return {
        "variant": variant,
        "image_size": image_size,
        "patch_size": int(proj.shape[-1]),
        "embed_dim": int(proj.shape[0]),
        "depths": depths,
        "num_heads": heads,
        "window_size": window,
        "head_hidden_size": int(inter.shape[1]),
        "head_layers": len(layers),
        "head_heads": head_heads,
        "head_intermediate_size": int(inter.shape[0]),
        "label_dim": int(label.shape[1]) if variant == "ram" else 512,
        "num_classes": num_classes,
        "vocabulary": variant,
        "threshold": 0.68,
        "delete_tag_index": [127, 2961, 3351, 3265, 3338, 3355, 3359] if variant == "tag2text" else [],
    }


def load_original_checkpoint(path: str | Path, image_size: int = 384, trust_pickle: bool = False) -> Any:
    """An ``ImageTaggingModel`` holding the weights of an original recognize-anything ``.pth`` file.

    The file is read with ``torch.load(weights_only=True)`` unless ``trust_pickle`` (only for files
    from a source you trust: a full unpickle can run code)."""
    import torch

    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"tagger checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=not trust_pickle)
    except Exception as exc:  # UnpicklingError for non-tensor objects, or a truncated file
        raise ConfigError(
            f"cannot read tagger checkpoint {path}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}; "
            "if it is an original recognize-anything file from a trusted source, convert it once with "
            "`vidfast convert-tagger CKPT OUT_DIR --trust-pickle` and pass OUT_DIR"
        ) from exc
    state = checkpoint.get("model", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise ConfigError(f"tagger checkpoint {path} holds no state dict (expected a dict with 'model')")
    config = ImageTaggerConfig(**config_from_state_dict(state, image_size=image_size))
    model = ImageTaggingModel(config)
    missing, unexpected = model.load_state_dict(convert_original_state_dict(state), strict=False)
    if missing or unexpected:
        raise ConfigError(
            f"tagger checkpoint {path} does not match the {config.variant} architecture: "
            f"missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    return model.eval()


def original_checkpoint_path(ref: str) -> Path | None:
    """The original ``.pth`` that ``ref`` names (a path, or a manifest with ``hf_id`` + ``file`` found in
    the local Hugging Face cache), ``None`` when ``ref`` is a saved directory or an embedded model."""
    from vidfast.models.manifest import manifest_for

    if Path(ref).suffix in CHECKPOINT_SUFFIXES:
        return Path(ref).expanduser()
    manifest = manifest_for(ref)
    if manifest is None or manifest.kind != "tagger" or not (manifest.source.hf_id and manifest.source.file):
        return None
    from huggingface_hub import hf_hub_download

    repo, name = manifest.source.hf_id, manifest.source.file
    try:
        return Path(hf_hub_download(repo, name, revision=manifest.source.revision, local_files_only=True))
    except Exception as exc:  # LocalEntryNotFoundError, or no cache at all
        raise ConfigError(
            f"tagger {ref!r} needs {name} from {repo}, which is not in the local Hugging Face cache and "
            f"vidfast does not download models at run time; on a connected machine run "
            f"`huggingface-cli download {repo} {name} --local-dir DIR`, copy DIR here and set "
            f"models.tagger=DIR/{name} (or convert it once: `vidfast convert-tagger DIR/{name} OUT_DIR`)"
        ) from exc


IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def save_tagger(model: Any, out: str | Path) -> Path:
    """``save_pretrained`` plus the processor config (square resize, ImageNet mean/std) the loader reads."""
    import json

    out = Path(out)
    model.save_pretrained(out)
    size = int(model.config.image_size)
    doc = {
        "image_processor_type": "BlipImageProcessor",
        "do_resize": True,
        "size": {"height": size, "width": size},
        "resample": 2,
        "do_center_crop": False,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": list(IMAGENET_MEAN),
        "image_std": list(IMAGENET_STD),
        "do_convert_rgb": True,
    }
    (out / "preprocessor_config.json").write_text(json.dumps(doc, indent=2))
    return out


def is_tagging_model(ref: str) -> bool:
    """Whether ``ref`` names a Tag2Text/RAM model (manifest kind ``tagger``, a saved tagger directory
    or an original ``.pth``), as opposed to a CLIP model used for zero-shot tags."""
    from vidfast.models.manifest import manifest_for

    manifest = manifest_for(ref)
    if manifest is not None:
        return manifest.kind == "tagger"
    path = Path(ref).expanduser()
    if path.suffix in CHECKPOINT_SUFFIXES:
        return True
    config = path / "config.json"
    if config.is_file():
        import json

        try:
            return json.loads(config.read_text()).get("model_type") == MODEL_TYPE
        except ValueError:
            return False
    return False


def tagger_vocabulary(ref: str) -> str | None:
    """The vocabulary (``tag2text``/``ram``) of tagging model ``ref`` when it can be read without
    loading weights (its manifest, or a saved directory's config.json); ``None`` otherwise."""
    import json

    from vidfast.models.manifest import manifest_for

    manifest = manifest_for(ref)
    if manifest is not None:
        config = manifest.architecture or (manifest.source.embedded or {}).get("config", {})
        return config.get("vocabulary")
    path = Path(ref).expanduser() / "config.json"
    try:
        return json.loads(path.read_text()).get("vocabulary")
    except (OSError, ValueError):
        return None


# ---- runtime ---------------------------------------------------------------------------------------------


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


class ImageTagger:
    """Tags frames with a Tag2Text/RAM model: ``tag(frames) -> [[(tag, probability), ...], ...]``.

    ``ref``: ``embedded:tag2text-tiny``/``embedded:ram-tiny``, a directory saved by ``save_pretrained``
    (``vidfast convert-tagger`` writes one), or an original ``.pth``. A tag is returned when its sigmoid
    probability exceeds its class threshold (the model's own: RAM's per-class file, Tag2Text 0.68 with
    three overrides; ``threshold`` replaces them all), best first, at most ``top_k``; Tag2Text's seven
    deleted classes are never returned. ``backend``: ``auto``/``torch``/``onnxruntime``/``tensorrt``
    (the tagger's ONNX export, see ``vidfast.models.tensorrt``).
    """

    def __init__(
        self,
        ref: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        backend: str = "auto",
        batch_size: int = 16,
        threshold: float | None = None,
        top_k: int = 10,
        preprocess: str = "auto",
        allow_hub: bool = False,
    ) -> None:
        from vidfast.models import loader
        from vidfast.models.manifest import manifest_for
        from vidfast.models.preprocess import ImageSpec, spec_for

        if top_k < 1:
            raise ConfigError(f"tag top_k must be >= 1, got {top_k}")
        device = loader.resolve_device(device)
        torch_dtype = loader.resolve_dtype(dtype, device)
        self.ref, self.model_dir = ref, None
        checkpoint = original_checkpoint_path(ref)
        if checkpoint is not None:
            model = load_original_checkpoint(checkpoint).to(device, torch_dtype)
            size = model.config.image_size
            spec = ImageSpec(size, False, IMAGENET_MEAN, IMAGENET_STD)
        else:
            tagger_classes()  # registers the config class before from_pretrained reads config.json
            self.model_dir = loader.resolve_model_dir(ref, allow_hub)
            model = loader.load_model(ref, tagger_classes()[1], device, torch_dtype, allow_hub)
            spec = spec_for(manifest_for(ref), self.model_dir)
        self.model, self.spec, self.device, self.dtype = model.eval(), spec, device, torch_dtype
        cfg = model.config
        self.variant, self.vocabulary = cfg.variant, cfg.vocabulary
        self.tags = class_names(cfg.vocabulary)
        if len(self.tags) < cfg.num_classes:
            raise ConfigError(
                f"tagger {ref} has {cfg.num_classes} classes but vocabulary {cfg.vocabulary!r} only "
                f"{len(self.tags)} tags"
            )
        self.tags = self.tags[: cfg.num_classes]
        self.thresholds = np.asarray(
            [threshold] * cfg.num_classes if threshold is not None else cfg.class_thresholds, np.float32
        )
        self.allowed = np.ones(cfg.num_classes, bool)
        self.allowed[[i for i in cfg.delete_tag_index if i < cfg.num_classes]] = False
        self.top_k, self.batch_size, self.preprocess = int(top_k), int(batch_size), preprocess
        self.backend = self._pick_backend(backend)
        self._runner: Any = None

    def _pick_backend(self, backend: str) -> str:
        from vidfast import backends

        valid = ("auto", "torch", "torch-compile", "torch-cudagraphs", "onnxruntime", "tensorrt")
        if backend not in valid:
            raise BackendUnavailable(f"unknown tagger backend {backend!r}; choose one of: {', '.join(valid)}")
        if backend == "auto":
            return "torch"
        if backend in ("torch-compile", "torch-cudagraphs"):
            import torch

            if backend == "torch-cudagraphs" and not str(self.device).startswith("cuda"):
                raise BackendUnavailable(
                    "backend torch-cudagraphs needs models.device=cuda; use torch-compile on CPU"
                )
            mode = "reduce-overhead" if backend == "torch-cudagraphs" else "default"
            self.model = torch.compile(self.model, mode=mode, dynamic=False)
            return backend
        if backend != "torch" and self.model_dir is None:
            raise BackendUnavailable(
                f"tagger backend {backend} needs a saved model directory (ONNX export); convert the "
                "checkpoint with `vidfast convert-tagger` and pass the directory"
            )
        return backends.choose("vision", backend).name

    @property
    def num_classes(self) -> int:
        return len(self.tags)

    def export_onnx(self) -> Path:
        """The cached ONNX export of the whole tagger (``pixel_values [batch,3,S,S] -> logits [batch,K]``)."""
        import torch

        from vidfast.models import onnx_export

        if self.model_dir is None:
            raise BackendUnavailable("ONNX export needs a tagger loaded from a directory")
        precision = str(self.dtype).removeprefix("torch.")
        key = onnx_export.model_key(self.ref.removeprefix("embedded:"), self.model_dir)
        path = onnx_export.onnx_path(key, "tagger", precision, 17)
        if path.is_file():
            return path
        example = (torch.zeros(2, 3, self.spec.size, self.spec.size, dtype=self.dtype, device=self.device),)
        return onnx_export.export_onnx(
            self.model,
            example,
            path,
            ["pixel_values"],
            {"pixel_values": {0: "batch"}},
            17,
            output_name="logits",
        )

    def _run(self, pixels: Any) -> np.ndarray:
        import torch

        if self.backend == "onnxruntime":
            if self._runner is None:
                from vidfast.models.onnx_export import OrtTower

                self._runner = OrtTower(self.export_onnx(), self.device, output_name="logits")
            return self._runner.run(pixel_values=pixels.cpu().numpy()).astype(np.float32)
        if self.backend == "tensorrt":
            if self._runner is None:
                from vidfast.models.tensorrt import engine_for_onnx

                self._runner = engine_for_onnx(
                    self.export_onnx(), "tagger", self.device, (1, self.batch_size)
                )
            return self._runner.run(pixel_values=pixels).float().cpu().numpy()
        with torch.inference_mode():
            x = pixels.to(self.device, self.dtype, non_blocking=True)
            n = len(x)
            if self.backend.startswith("torch-") and n < self.batch_size:  # compiled: one static batch shape
                x = torch.cat([x, x[-1:].expand(self.batch_size - n, *x.shape[1:])])
            return self.model(x)[:n].float().cpu().numpy()

    def logits(self, frames: Any) -> np.ndarray:
        """uint8 RGB frames -> float32 logits ``[N, K]``."""
        from vidfast.models.preprocess import pixel_values

        out = np.empty((len(frames), self.num_classes), np.float32)
        for part in _batches(len(frames), self.batch_size):
            out[part] = self._run(pixel_values(frames[part], self.spec, self.preprocess))
        return out

    def select(self, probabilities: np.ndarray) -> list[list[tuple[str, float]]]:
        """Per row: classes above their threshold (deleted ones never), best first, at most ``top_k``."""
        out = []
        for row in np.atleast_2d(probabilities):
            hit = np.flatnonzero((row > self.thresholds) & self.allowed)
            hit = hit[np.argsort(-row[hit], kind="stable")][: self.top_k]
            out.append([(self.tags[i], round(float(row[i]), 4)) for i in hit])
        return out

    def tag(self, frames: Any) -> list[list[tuple[str, float]]]:
        """Tags (with probabilities) of uint8 RGB frames (``[N,H,W,3]`` or a list of ``[H,W,3]``)."""
        if len(frames) == 0:
            return []
        logits = self.logits(frames)
        return self.select(1.0 / (1.0 + np.exp(-logits)))
