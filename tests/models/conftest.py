"""Fixtures for the model-wrapper tests: the embedded tiny CLIP and BLIP-2, built once per session.

Every model test shares one temporary ``VIDFAST_CACHE_DIR``, so the embedded models and ONNX
exports are built through the loader exactly as a user's first run builds them, and nothing is
written into the real cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from vidfast.models.blip2 import Blip2Captioner
    from vidfast.models.clip import ClipEncoder

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh VIDFAST_CACHE_DIR for the session (and HF offline mode)."""
    path = tmp_path_factory.mktemp("vidfast-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIDFAST_CACHE_DIR", str(path))
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield path


@pytest.fixture(scope="session")
def clip_tiny(model_cache: Path) -> ClipEncoder:
    """``ClipEncoder`` on embedded:clip-tiny, CPU fp32, torch backend (the reference), batch 4."""
    from vidfast.models.clip import ClipEncoder

    return ClipEncoder("embedded:clip-tiny", device="cpu", dtype="float32", batch_size=4, backend="torch")


@pytest.fixture(scope="session")
def clip_tiny_ort(model_cache: Path, clip_tiny: ClipEncoder) -> ClipEncoder:
    """``ClipEncoder`` on embedded:clip-tiny with the onnxruntime backend (exports on first use)."""
    pytest.importorskip("onnxruntime")
    from vidfast.models.clip import ClipEncoder

    return ClipEncoder(
        "embedded:clip-tiny", device="cpu", dtype="float32", batch_size=4, backend="onnxruntime"
    )


@pytest.fixture(scope="session")
def blip2_tiny(model_cache: Path) -> Blip2Captioner:
    """``Blip2Captioner`` on embedded:blip2-tiny, CPU fp32, batch 4."""
    from vidfast.models.blip2 import Blip2Captioner

    return Blip2Captioner("embedded:blip2-tiny", device="cpu", dtype="float32", batch_size=4)


@pytest.fixture(scope="session")
def frames() -> np.ndarray:
    """Ten deterministic 90x160 RGB frames: smooth gradients plus a little texture."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:90, 0:160].astype(np.float32)
    out = []
    for i in range(10):
        base = np.stack([x * (1 + i % 3), y * 2 + 10 * i, (x + y) * 0.8], axis=-1)
        out.append(np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8))
    return np.stack(out)
