"""Recipes: named pipelines. ``probe`` (probe and decode-check every input) and ``grounding``
(InternVid-G); the LLM recipes ``videochatgpt``, ``videochat``, ``videochat2`` and ``judge``."""

from __future__ import annotations

from vidfast.errors import ConfigError
from vidfast.recipes.base import ExportContext, Recipe

_MODULES = {
    "probe": "vidfast.recipes.probe",
    "grounding": "vidfast.recipes.grounding",
    "videochatgpt": "vidfast.recipes.videochatgpt",
    "videochat": "vidfast.recipes.videochat",
    "videochat2": "vidfast.recipes.videochat2",
    "judge": "vidfast.recipes.judge",
}


def recipe_names() -> list[str]:
    return sorted(_MODULES)


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; an unknown name lists the available ones."""
    import importlib

    if name not in _MODULES:
        raise ConfigError(f"unknown recipe {name!r}; available recipes: {', '.join(recipe_names())}")
    return importlib.import_module(_MODULES[name]).RECIPE


__all__ = ["ExportContext", "Recipe", "get_recipe", "recipe_names"]
