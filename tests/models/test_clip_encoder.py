"""``ClipEncoder`` on the embedded tiny CLIP: shapes, batching invariance, HF parity, ONNX parity, GPU fp16.

Tolerances (fp32, CPU): batched vs one-at-a-time max |diff| <= 1e-5 (measured ~1e-6); onnxruntime
vs torch max |diff| <= 1e-4 (measured ~1e-6) at every batch size and text length.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidfast.errors import BackendUnavailable
from vidfast.models.clip import ClipEncoder, pick_backend
from vidfast.models.preprocess import pixel_values

TEXTS = [
    "a photo of a dog",
    "a man riding a bike down a long city street in the rain",
    "x",
    "two dogs are running on the beach at sunset",
    "a cat",
]


def test_shapes_and_dtype(clip_tiny: ClipEncoder, frames: np.ndarray) -> None:
    img, txt = clip_tiny.encode_images(frames), clip_tiny.encode_texts(TEXTS)
    assert img.shape == (len(frames), clip_tiny.dim) == (10, 32) and img.dtype == np.float32
    assert txt.shape == (len(TEXTS), 32) and txt.dtype == np.float32
    assert clip_tiny.encode_images(frames[:0]).shape == (0, 32)
    assert clip_tiny.encode_texts([]).shape == (0, 32)


def test_matches_hf_clip_features(clip_tiny: ClipEncoder, frames: np.ndarray) -> None:
    pixels = pixel_values(frames, clip_tiny.spec)
    enc = clip_tiny.tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        img = clip_tiny.model.get_image_features(pixel_values=pixels)
        txt = clip_tiny.model.get_text_features(**enc)
    img, txt = (getattr(t, "pooler_output", t) for t in (img, txt))  # tensor or output object by version
    np.testing.assert_allclose(clip_tiny.encode_images(frames), img.numpy(), atol=1e-5)
    np.testing.assert_allclose(clip_tiny.encode_texts(TEXTS), txt.numpy(), atol=1e-5)


def test_batched_equals_unbatched(clip_tiny: ClipEncoder, frames: np.ndarray) -> None:
    batched = clip_tiny.encode_images(frames)
    single = np.concatenate([clip_tiny.encode_images(f[None]) for f in frames])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    texts = clip_tiny.encode_texts(TEXTS)
    np.testing.assert_allclose(texts, np.concatenate([clip_tiny.encode_texts([t]) for t in TEXTS]), atol=1e-5)


def test_torch_and_list_inputs(clip_tiny: ClipEncoder, frames: np.ndarray) -> None:
    ref = clip_tiny.encode_images(frames)
    np.testing.assert_array_equal(clip_tiny.encode_images(torch.from_numpy(frames)), ref)
    np.testing.assert_array_equal(clip_tiny.encode_images(list(frames)), ref)


@pytest.mark.parametrize("n", [1, 3, 8])
def test_onnxruntime_matches_torch_images(
    clip_tiny: ClipEncoder, clip_tiny_ort: ClipEncoder, frames: np.ndarray, n: int
) -> None:
    clip_tiny_ort.batch_size = n
    diff = np.abs(clip_tiny_ort.encode_images(frames[:n]) - clip_tiny.encode_images(frames[:n]))
    assert diff.max() <= 1e-4, diff.max()


@pytest.mark.parametrize("n", [1, 2, 5])
def test_onnxruntime_matches_torch_texts(clip_tiny: ClipEncoder, clip_tiny_ort: ClipEncoder, n: int) -> None:
    clip_tiny_ort.batch_size = n
    diff = np.abs(clip_tiny_ort.encode_texts(TEXTS[:n]) - clip_tiny.encode_texts(TEXTS[:n]))
    assert diff.max() <= 1e-4, diff.max()


def test_onnx_export_is_cached(clip_tiny_ort: ClipEncoder, model_cache) -> None:
    path = clip_tiny_ort.export_onnx("vision")
    assert path.is_relative_to(model_cache / "onnx") and path.name == "vision-float32-opset17.onnx"
    before = path.stat().st_mtime_ns
    again = ClipEncoder("embedded:clip-tiny", device="cpu", dtype="float32", backend="onnxruntime")
    assert again.export_onnx("vision") == path and path.stat().st_mtime_ns == before

    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_auto_backend_policy() -> None:
    pytest.importorskip("onnxruntime")
    assert pick_backend("auto", "cpu", torch.float32) == "onnxruntime"
    assert pick_backend("auto", "cuda", torch.float32) == "torch"
    assert pick_backend("auto", "cpu", torch.bfloat16) == "torch"
    assert pick_backend("torch", "cpu", torch.float32) == "torch"


def test_unavailable_and_unknown_backends(model_cache) -> None:
    with pytest.raises(BackendUnavailable, match="tensorrt"):
        ClipEncoder("embedded:clip-tiny", device="cpu", backend="tensorrt")
    with pytest.raises(BackendUnavailable, match="choose one of"):
        ClipEncoder("embedded:clip-tiny", device="cpu", backend="openvino")


@pytest.mark.needs_cuda
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_on_gpu(clip_tiny: ClipEncoder, frames: np.ndarray, dtype: str) -> None:
    gpu = ClipEncoder("embedded:clip-tiny", device="cuda", dtype=dtype, batch_size=4)
    ref, got = clip_tiny.encode_images(frames), gpu.encode_images(torch.from_numpy(frames).cuda())
    cos = (ref * got).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(got, axis=1)
    assert got.dtype == np.float32 and cos.min() >= 0.995, cos
    txt = gpu.encode_texts(TEXTS)
    ref_t = clip_tiny.encode_texts(TEXTS)
    cos_t = (ref_t * txt).sum(1) / np.linalg.norm(ref_t, axis=1) / np.linalg.norm(txt, axis=1)
    assert cos_t.min() >= 0.995, cos_t


def test_user_directory_loads_like_embedded(clip_tiny: ClipEncoder, frames: np.ndarray, tmp_path) -> None:
    import shutil

    user_dir = shutil.copytree(clip_tiny.model_dir, tmp_path / "my-clip")
    mine = ClipEncoder(str(user_dir), device="cpu", dtype="float32", backend="torch", batch_size=4)
    assert mine.spec == clip_tiny.spec  # read from the directory's processor config, not a manifest
    np.testing.assert_array_equal(mine.encode_images(frames), clip_tiny.encode_images(frames))
    np.testing.assert_array_equal(mine.encode_texts(TEXTS), clip_tiny.encode_texts(TEXTS))
