"""Recipes: named pipelines. ``probe`` (probe and decode-check every input) and ``grounding``
(InternVid-G); the instruction-data recipes follow."""

from __future__ import annotations

from vidfast.errors import ConfigError
from vidfast.recipes.base import ExportContext, Recipe

_MODULES = {"probe": "vidfast.recipes.probe", "grounding": "vidfast.recipes.grounding"}


def recipe_names() -> list[str]:
    return sorted(_MODULES)


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; an unknown name lists the available ones."""
    import importlib

    if name not in _MODULES:
        raise ConfigError(f"unknown recipe {name!r}; available recipes: {', '.join(recipe_names())}")
    return importlib.import_module(_MODULES[name]).RECIPE


__all__ = ["ExportContext", "Recipe", "get_recipe", "recipe_names"]
