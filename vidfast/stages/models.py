"""One model instance per process, shared by the stages that use it (e.g. CLIP for images and texts)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

_models: dict[Hashable, Any] = {}
_lock = threading.Lock()


def shared_model(key: Hashable, factory: Callable[[], Any]) -> Any:
    """The model stored under ``key``, built by ``factory`` on first use."""
    with _lock:
        if key not in _models:
            _models[key] = factory()
        return _models[key]
