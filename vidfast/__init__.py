"""vidfast: turn raw videos into video instruction-tuning and temporal-grounding datasets, fast, offline.

Public API (mirrors the CLI):

- ``vidfast.run(inputs, output, recipe=..., preset=..., config=..., overrides=...)`` → ``RunResult``
- ``vidfast.merge(output)`` → ``RunResult``: export a run made of ``runtime.shard=i/n`` processes
- ``vidfast.probe(path)`` → ``VideoInfo``
- ``vidfast.info()`` → dict of version, native build and backend availability
- ``vidfast.load_config(preset, config_file, overrides)`` → ``RunConfig``
- ``vidfast.recipe_names()`` → the available recipes
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "run": ("vidfast.runner", "run"),
    "merge": ("vidfast.runner", "merge"),
    "RunResult": ("vidfast.runner", "RunResult"),
    "probe": ("vidfast.io", "probe"),
    "load_config": ("vidfast.config", "load_config"),
    "RunConfig": ("vidfast.config", "RunConfig"),
    "recipe_names": ("vidfast.recipes", "recipe_names"),
    "info": ("vidfast.sysinfo", "collect"),
}


def __getattr__(name: str) -> Any:
    """Import the public API lazily so ``import vidfast`` stays fast (no torch, no PyAV)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'vidfast' has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


__all__ = ["__version__", *_LAZY]
