"""Fixtures for the grounding tests: each host backend, a seeded RNG."""

from __future__ import annotations

import numpy as np
import pytest
from grounding_helpers import HOST_BACKENDS


@pytest.fixture(params=HOST_BACKENDS)
def host_backend(request: pytest.FixtureRequest) -> str:
    """Each host backend built here ("reference", and "native" when the similarity kernels exist)."""
    return request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20260522)
