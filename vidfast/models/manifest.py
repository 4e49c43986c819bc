"""Loading and validating model manifests."""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from vidfast.errors import ConfigError
from vidfast.resources import data_dir

EMBEDDED_PREFIX = "embedded:"


class Source(BaseModel):
    """Where the weights come from: an HF id, a file inside an installed package, or a config to build."""

    model_config = ConfigDict(extra="forbid")
    hf_id: str | None = None
    revision: str | None = None
    package: str | None = None
    file: str | None = None
    embedded: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> Source:
        if not (self.hf_id or self.package or self.embedded):
            raise ValueError("a source needs hf_id, package (+file) or embedded (a config to build)")
        if self.package and not self.file:
            raise ValueError("a package source must name the file inside the package")
        return self


class ModelManifest(BaseModel):
    """One model: identity, source, class, preprocessing, export settings, licence."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    name: str
    kind: Literal["clip", "blip2", "tagger", "causal-lm", "text-encoder", "shot-detector", "region-captioner",
                  "detector", "image-classifier"]
    description: str
    source: Source
    model_class: str
    preprocessing: dict[str, Any] = {}
    export: dict[str, Any] = {}
    architecture: dict[str, Any] = {}  # full-size hyper-parameters of a model built by vidfast (taggers)
    aliases: list[str] = []
    licence: str


def _read(path: Any) -> ModelManifest:
    try:
        return ModelManifest.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"model manifest {path} is invalid: {exc}") from exc


@cache
def all_manifests() -> dict[str, ModelManifest]:
    """Every manifest in the models directory, by name."""
    found = {}
    for path in sorted(data_dir("models").glob("*.yaml")):
        manifest = _read(path)
        if manifest.name != path.stem:
            raise ConfigError(f"model manifest {path} names itself {manifest.name!r}; rename one to match")
        found[manifest.name] = manifest
    return found


def load_manifest(name: str) -> ModelManifest:
    """The manifest called ``name``; an unknown name lists the known ones."""
    manifests = all_manifests()
    if name not in manifests:
        raise ConfigError(f"no model manifest {name!r}; known: {', '.join(sorted(manifests))}")
    return manifests[name]


def manifest_for(ref: str) -> ModelManifest | None:
    """The manifest of a model reference (``embedded:<name>``, a name, an alias or an HF id), if any."""
    if ref.startswith(EMBEDDED_PREFIX):
        return load_manifest(ref[len(EMBEDDED_PREFIX):])
    for manifest in all_manifests().values():
        if ref in (manifest.name, manifest.source.hf_id, *manifest.aliases):
            return manifest
    return None
