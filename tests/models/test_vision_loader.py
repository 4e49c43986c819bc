"""The model loader: embedded tiny models built once and loaded like a user's directory; offline errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vidfast.errors import BackendUnavailable, ConfigError
from vidfast.models import loader
from vidfast.models.manifest import load_manifest


@pytest.mark.parametrize("name", ["clip-tiny", "blip2-tiny"])
def test_embedded_dir_is_a_normal_pretrained_dir(model_cache: Path, name: str) -> None:
    path = loader.resolve_model_dir(f"embedded:{name}")
    assert path == model_cache / "models" / name
    for f in ("config.json", "model.safetensors", "tokenizer.json", "processor_config.json", loader.STAMP):
        assert (path / f).is_file(), f
    assert not list(path.parent.glob(f".{name}.tmp*")), "temporary build directory left behind"


def test_embedded_is_built_once(model_cache: Path) -> None:
    path = loader.resolve_model_dir("embedded:clip-tiny")
    before = (path / "model.safetensors").stat().st_mtime_ns
    assert loader.resolve_model_dir("embedded:clip-tiny") == path
    assert (path / "model.safetensors").stat().st_mtime_ns == before


@pytest.mark.parametrize("name", ["clip-tiny", "blip2-tiny"])
def test_save_load_round_trip_equals_fresh_build(model_cache: Path, name: str) -> None:
    manifest = load_manifest(name)
    spec = manifest.source.embedded or {}
    config = loader._import(spec["config_class"])(**spec["config"])
    torch.manual_seed(spec["seed"])
    fresh = loader._import(manifest.model_class)(config)
    loaded = loader.load_model(f"embedded:{name}", type(fresh), device="cpu")
    got = loaded.state_dict()
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, got[key]), key


def test_tokenizer_round_trip(model_cache: Path) -> None:
    from vidfast.models.tiny_tokenizers import clip_tokenizer

    loaded = loader.load_tokenizer("embedded:clip-tiny")
    text = ["a photo of a dog", "A man riding a BIKE down the street!"]
    assert loaded(text)["input_ids"] == clip_tokenizer()(text)["input_ids"]
    assert loaded("a dog")["input_ids"][0] == 49406 and loaded("a dog")["input_ids"][-1] == 49407
    assert (
        loaded.decode(loaded("a photo of a dog")["input_ids"], skip_special_tokens=True) == "a photo of a dog"
    )


def test_blip2_tokenizer_fits_the_tiny_vocab(model_cache: Path) -> None:
    from transformers import Blip2Config

    path = loader.resolve_model_dir("embedded:blip2-tiny")
    tok = loader.load_tokenizer("embedded:blip2-tiny")
    config = Blip2Config.from_pretrained(path)
    assert max(tok.get_vocab().values()) < config.text_config.vocab_size
    assert tok.convert_tokens_to_ids("<image>") == config.image_token_index
    assert tok("a dog")["input_ids"][0] == config.text_config.bos_token_id


def test_missing_local_dir_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist.*huggingface-cli download"):
        loader.resolve_model_dir(str(tmp_path / "no-such-model"))


def test_dir_without_config_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no config.json"):
        loader.resolve_model_dir(str(tmp_path))


def test_uncached_hub_id_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(
        ConfigError, match=r"does not download.*huggingface-cli download openai/clip-vit-large"
    ):
        loader.resolve_model_dir("openai/clip-vit-large-patch14")


def test_unknown_embedded_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="no model manifest 'nope'.*clip-tiny"):
        loader.resolve_model_dir("embedded:nope")


def test_non_embedded_manifest_is_rejected() -> None:
    with pytest.raises(ConfigError, match="not an embedded model.*openai/clip-vit-large-patch14"):
        loader.resolve_model_dir("embedded:clip-vit-large-patch14")


def test_device_and_dtype_policy() -> None:
    assert loader.resolve_device("cpu") == "cpu"
    assert loader.resolve_dtype("auto", "cpu") == torch.float32
    assert loader.resolve_dtype("auto", "cuda") == torch.float16
    assert loader.resolve_dtype("bfloat16", "cpu") == torch.bfloat16
    with pytest.raises(ConfigError, match="valid: auto"):
        loader.resolve_dtype("float8", "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(BackendUnavailable, match="models.device=cuda"):
            loader.resolve_device("cuda")


@pytest.mark.parametrize("name", ["clip-tiny", "blip2-tiny"])
def test_build_without_pillow_writes_a_processor_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from vidfast.models.preprocess import ImageSpec

    def no_pillow(*args: object, **kwargs: object) -> None:
        raise ImportError("CLIPImageProcessor requires the PIL library")

    monkeypatch.setattr(loader, "_processor", no_pillow)
    manifest = load_manifest(name)
    loader.build_embedded(manifest, tmp_path)
    assert ImageSpec.from_model_dir(tmp_path) == ImageSpec.from_manifest(manifest)
    assert (tmp_path / "tokenizer.json").is_file()
