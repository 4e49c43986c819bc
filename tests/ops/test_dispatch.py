"""Backend selection: auto, explicit choices, unavailable backends, torch inputs."""

from __future__ import annotations

import numpy as np
import pytest

from vidfast import _native, ops
from vidfast.errors import BackendUnavailable, ConfigError


def test_unknown_backend_lists_choices():
    with pytest.raises(ConfigError, match="valid: auto, native, reference, cuda"):
        ops.resize(np.zeros((4, 4, 3), np.uint8), (2, 2), backend="gpu")


def test_cuda_backend_rejects_host_arrays():
    with pytest.raises(BackendUnavailable, match="torch CUDA tensors"):
        ops.resize(np.zeros((4, 4, 3), np.uint8), (2, 2), backend="cuda")


def test_available_backends_explain_themselves():
    avail = ops.available_backends()
    assert avail["reference"] is None
    assert (avail["native"] is None) == _native.HAS_NATIVE
    assert avail["cuda"] is None or isinstance(avail["cuda"], str)


def test_require_native_message(monkeypatch):
    monkeypatch.setattr(_native, "_C", None)
    monkeypatch.setattr(_native, "NATIVE_IMPORT_ERROR", "ImportError: no _C")
    with pytest.raises(BackendUnavailable, match="no _C.*pip install"):
        _native.require_native("test feature")


def test_torch_cpu_tensors_round_trip(rng):
    torch = pytest.importorskip("torch")
    x = rng.integers(0, 256, (2, 20, 30, 3), dtype=np.uint8)
    out = ops.resize(torch.from_numpy(x), (10, 15))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 10, 15, 3)
    assert np.array_equal(out.numpy(), ops.resize(x, (10, 15), backend="reference"))
    chw = ops.normalize_to_chw(torch.from_numpy(x[0]), (8, 8), 0.5, 0.5)
    assert isinstance(chw, torch.Tensor) and chw.dtype == torch.float32 and chw.shape == (3, 8, 8)


def test_build_info_shape():
    info = _native.build_info()
    assert {"native", "cuda", "cuda_archs", "openmp", "reason"} <= info.keys()
    assert isinstance(_native.cuda_runtime_available(), bool)
