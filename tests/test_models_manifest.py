"""Model manifests load, validate, and cover every model the presets name."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from vidfast.config import available_presets, load_config
from vidfast.errors import ConfigError
from vidfast.models import all_manifests, load_manifest, manifest_for
from vidfast.models.manifest import ModelManifest


def test_every_manifest_is_valid() -> None:
    manifests = all_manifests()
    assert {"clip-vit-large-patch14", "blip2-opt-2.7b", "clip-tiny", "blip2-tiny", "smollm2-135m-instruct"} <= set(manifests)
    for m in manifests.values():
        if m.kind in ("clip", "blip2"):
            assert len(m.preprocessing["mean"]) == 3 and len(m.preprocessing["std"]) == 3


@pytest.mark.parametrize("preset", available_presets())
def test_preset_models_resolve_to_manifests(preset: str) -> None:
    models = load_config(preset).models
    for ref in (models.clip, models.blip2, models.detector, models.llm, models.text_encoder):
        assert manifest_for(ref) is not None, f"preset {preset}: no manifest for {ref!r}"


def test_package_sources_point_at_installed_files() -> None:
    for m in all_manifests().values():
        if not m.source.package:
            continue
        top = m.source.file.split("/")[0]
        spec = importlib.util.find_spec(top)
        if spec is None or not spec.submodule_search_locations:
            pytest.skip(f"{m.source.package} is not installed")
        assert (Path(list(spec.submodule_search_locations)[0]).parent / m.source.file).exists(), m.name


def test_embedded_configs_build_real_architectures() -> None:
    transformers = pytest.importorskip("transformers")
    for name in ("clip-tiny", "blip2-tiny", "owlv2-tiny"):
        src = load_manifest(name).source.embedded
        config = getattr(transformers, src["config_class"].split(".")[-1])(**src["config"])
        model = getattr(transformers, load_manifest(name).model_class.split(".")[-1])(config)
        assert sum(p.numel() for p in model.parameters()) < 5_000_000


def test_bad_manifests_and_names() -> None:
    with pytest.raises(ConfigError, match="no model manifest 'nope'; known:"):
        load_manifest("nope")
    with pytest.raises(ValueError, match="a source needs hf_id"):
        ModelManifest.model_validate({"name": "x", "kind": "clip", "description": "", "source": {},
                                      "model_class": "C", "licence": "MIT"})
