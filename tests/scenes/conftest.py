"""Fixtures for the shot-detection tests: the PySceneDetect clips, score backends, a scenedetect runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenes_testutil import SCORE_BACKENDS


@pytest.fixture(params=SCORE_BACKENDS)
def score_backend(request: pytest.FixtureRequest) -> str:
    """Each host score backend built here."""
    return request.param


@pytest.fixture(scope="session")
def scenedetect_clips(shared_dir: Path) -> Path:
    """The PySceneDetect sample clips and their golden cut lists, or skip."""
    d = shared_dir / "testdata" / "pyscenedetect"
    if not (d / "goldens").is_dir():
        pytest.skip(f"no PySceneDetect goldens under {d}")
    return d
