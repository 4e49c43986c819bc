"""TensorRT engine cache and profiles (no TensorRT needed), the torch.compile twin, the BLIP-2 visual
export, and what runs when TensorRT is absent.

TensorRT itself cannot be installed on the CPU machines: ``test_tensorrt_engine_matches_torch``
(needs_cuda, and TensorRT) is the check that builds and runs a real engine.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from vidfast.errors import BackendUnavailable, ConfigError
from vidfast.models import tensorrt as trt_mod
from vidfast.models.clip import ClipEncoder
from vidfast.models.tensorrt import InputShape, engine_key, engine_path, file_digest, make_profile


@pytest.fixture(scope="module")
def vision_onnx(clip_tiny: ClipEncoder) -> Path:
    return clip_tiny.export_onnx("vision")


@pytest.fixture(scope="module")
def text_onnx(clip_tiny: ClipEncoder) -> Path:
    return clip_tiny.export_onnx("text")


def test_profiles_span_the_stage_batches_and_text_lengths(vision_onnx: Path, text_onnx: Path) -> None:
    vision = make_profile(vision_onnx, [64, 1, 16], opt_batch=16)
    assert vision.inputs == (InputShape("pixel_values", (1, 3, 64, 64), (16, 3, 64, 64), (64, 3, 64, 64)),)
    assert vision.batch_range() == (1, 64)
    text = make_profile(text_onnx, [1, 256])  # opt defaults to the largest batch (full batches)
    assert [i.name for i in text.inputs] == ["input_ids", "attention_mask"]
    assert all(i.min == (1, 1) and i.opt == (256, 16) and i.max == (256, 77) for i in text.inputs)


def test_bad_profiles_are_refused(vision_onnx: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="positive integers"):
        make_profile(vision_onnx, [0, 4])
    with pytest.raises(ConfigError, match="opt batch 128 is outside"):
        make_profile(vision_onnx, [1, 64], opt_batch=128)
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, "height", "width"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, "height", "width"])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    path = tmp_path / "free.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(ConfigError, match="input 'x' has dimension 'height'"):
        make_profile(path, [1, 8])


def test_engine_key_covers_everything_a_plan_is_tied_to(vision_onnx: Path, tmp_path: Path) -> None:
    profile = make_profile(vision_onnx, [1, 16])
    base = {"onnx_digest": file_digest(vision_onnx), "trt_version": "11.4.0.106", "sm": "sm_90", "profile": profile,
            "settings": {"workspace_gb": 4.0, "strongly_typed": True}}  # fmt: skip
    key = engine_key(**base)
    assert key == engine_key(**base) and len(key) == 64
    other_profile = make_profile(vision_onnx, [1, 64])
    changed = [
        {"onnx_digest": "0" * 64},
        {"trt_version": "10.13.0"},
        {"sm": "sm_80"},
        {"profile": other_profile},
        {"settings": {"workspace_gb": 8.0, "strongly_typed": True}},
    ]
    keys = {engine_key(**(base | c)) for c in changed}
    assert len(keys) == len(changed) and key not in keys
    copy = tmp_path / "copy.onnx"
    copy.write_bytes(vision_onnx.read_bytes())
    assert file_digest(copy) == base["onnx_digest"]
    copy.write_bytes(vision_onnx.read_bytes() + b"\0")
    assert file_digest(copy) != base["onnx_digest"]
    path = engine_path("clip-tiny-abc", "vision", key)
    assert path.parts[-3:] == ("tensorrt", "clip-tiny-abc", f"vision-{key[:20]}.plan")


def test_without_tensorrt_the_reason_is_given_and_torch_or_ort_is_used(vision_onnx: Path) -> None:
    reason = trt_mod.tensorrt_reason()
    if reason is None:
        pytest.skip("TensorRT is usable here")
    assert "tensorrt" in reason or "CUDA" in reason
    with pytest.raises(BackendUnavailable, match="vision backend 'tensorrt' is unavailable"):
        trt_mod.engine_for_onnx(vision_onnx, "vision")
    with pytest.raises(BackendUnavailable, match="tensorrt"):
        ClipEncoder("embedded:clip-tiny", device="cpu", dtype="float32", backend="tensorrt")
    runtime = trt_mod.vision_runtime()
    assert runtime["why"].startswith("tensorrt: unavailable (") and runtime["using"].split()[0] in (
        "onnxruntime",
        "torch",
    )


class _Recorder:
    """Stands in for the ``tensorrt`` module to check vidfast's side of the documented call sequence
    (shapes per input, strongly-typed network, timing cache); it does not test TensorRT."""

    def __init__(self, parse_ok: bool = True) -> None:
        self.calls: list[tuple] = []
        rec = self

        class Enum:
            def __init__(self, **values: int) -> None:
                self.__dict__.update(values)

        self.Logger = type("Logger", (), {"WARNING": 2, "__init__": lambda s, level: None})
        self.NetworkDefinitionCreationFlag = Enum(STRONGLY_TYPED=1)
        self.MemoryPoolType = Enum(WORKSPACE=0)

        class Profile:
            def set_shape(self, name: str, lo: tuple, opt: tuple, hi: tuple) -> None:
                rec.calls.append(("set_shape", name, lo, opt, hi))

        class Config:
            def set_memory_pool_limit(self, pool: int, size: int) -> None:
                rec.calls.append(("workspace", size))

            def add_optimization_profile(self, p: Profile) -> None:
                rec.calls.append(("add_profile",))

            def create_timing_cache(self, data: bytes) -> object:
                rec.calls.append(("timing_cache_in", data))
                return types.SimpleNamespace(serialize=lambda: b"timings")

            def set_timing_cache(self, cache: object, ignore_mismatch: bool) -> None:
                rec.calls.append(("set_timing_cache", ignore_mismatch))

        class Builder:
            def __init__(self, logger: object) -> None:
                pass

            def create_network(self, flags: int) -> str:
                rec.calls.append(("network", flags))
                return "network"

            def create_builder_config(self) -> Config:
                return Config()

            def create_optimization_profile(self) -> Profile:
                return Profile()

            def build_serialized_network(self, network: str, config: Config) -> bytes:
                return b"PLAN"

        class OnnxParser:
            num_errors = 0 if parse_ok else 1

            def __init__(self, network: str, logger: object) -> None:
                pass

            def parse_from_file(self, path: str) -> bool:
                rec.calls.append(("parse", Path(path).name))
                return parse_ok

            def get_error(self, i: int) -> str:
                return "In node 7 (importLayerNorm): unsupported"

        self.Builder, self.OnnxParser = Builder, OnnxParser


def test_build_engine_follows_the_documented_call_sequence(
    monkeypatch: pytest.MonkeyPatch, text_onnx: Path, tmp_path: Path
) -> None:
    rec = _Recorder()
    monkeypatch.setitem(sys.modules, "tensorrt", rec)
    profile = make_profile(text_onnx, [1, 32])
    timing = tmp_path / "timing.cache"
    assert trt_mod.build_engine(text_onnx, profile, workspace_gb=1.0, timing_cache=timing) == b"PLAN"
    assert ("network", 1 << 1) in rec.calls and ("parse", text_onnx.name) in rec.calls
    assert ("workspace", 1 << 30) in rec.calls and ("add_profile",) in rec.calls
    shapes = [c for c in rec.calls if c[0] == "set_shape"]
    assert shapes == [("set_shape", n, (1, 1), (32, 16), (32, 77)) for n in ("input_ids", "attention_mask")]
    assert timing.read_bytes() == b"timings"
    monkeypatch.setitem(sys.modules, "tensorrt", _Recorder(parse_ok=False))
    with pytest.raises(ConfigError, match="TensorRT cannot parse .*importLayerNorm"):
        trt_mod.build_engine(text_onnx, profile)


def test_torch_compile_twin_matches_eager(clip_tiny: ClipEncoder, frames: np.ndarray) -> None:
    """The torch.compile twin (inductor on CPU here) gives the eager embeddings; the tail batch is
    padded to the static batch shape and cut back."""
    compiled = ClipEncoder(
        "embedded:clip-tiny", device="cpu", dtype="float32", batch_size=4, backend="torch-compile"
    )
    got = compiled.encode_images(frames[:6])  # batches of 4 and 2 (padded to 4)
    np.testing.assert_allclose(got, clip_tiny.encode_images(frames[:6]), atol=1e-5)
    with pytest.raises(BackendUnavailable, match="torch-cudagraphs needs models.device=cuda"):
        ClipEncoder("embedded:clip-tiny", device="cpu", dtype="float32", backend="torch-cudagraphs")


def test_blip2_visual_export_matches_torch(blip2_tiny: object, frames: np.ndarray, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    from vidfast.models.preprocess import pixel_values

    path = blip2_tiny.export_visual_onnx(tmp_path / "visual.onnx")
    pixels = pixel_values(frames[:3], blip2_tiny.spec)
    model = blip2_tiny.model
    with torch.no_grad():
        image = model.vision_model(pixel_values=pixels).last_hidden_state
        q = model.qformer(
            query_embeds=model.query_tokens.expand(3, -1, -1),
            encoder_hidden_states=image,
            encoder_attention_mask=torch.ones(image.shape[:-1], dtype=torch.long),
        ).last_hidden_state
        want = model.language_projection(q).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"pixel_values": pixels.numpy()}
    )[0]
    assert got.shape == (3, model.config.num_query_tokens, model.config.text_config.hidden_size)
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert make_profile(path, [1, 16]).inputs[0].max == (16, 3, blip2_tiny.spec.size, blip2_tiny.spec.size)


@pytest.mark.needs_cuda
def test_tensorrt_engine_matches_torch(model_cache: Path, frames: np.ndarray) -> None:
    """On a GPU with TensorRT: the CLIP vision engine (fp16, strongly typed) agrees with torch (cosine)."""
    if trt_mod.tensorrt_reason():
        pytest.skip(trt_mod.tensorrt_reason())
    ref = ClipEncoder("embedded:clip-tiny", device="cuda", dtype="float16", batch_size=8, backend="torch")
    eng = ClipEncoder("embedded:clip-tiny", device="cuda", dtype="float16", batch_size=8, backend="tensorrt")
    a, b = ref.encode_images(frames), eng.encode_images(frames)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.999
    assert list((model_cache / "tensorrt").rglob("vision-*.plan"))


@pytest.mark.needs_cuda
def test_cudagraphs_twins_match_eager_on_cuda(model_cache: Path, frames: np.ndarray) -> None:
    """On a GPU: the torch.compile + CUDA-graphs twins of CLIP and the RAM tagger agree with eager fp16."""
    from vidfast.models.tag2text import ImageTagger

    eager = ClipEncoder("embedded:clip-tiny", device="cuda", dtype="float16", batch_size=4, backend="torch")
    twin = ClipEncoder(
        "embedded:clip-tiny", device="cuda", dtype="float16", batch_size=4, backend="torch-cudagraphs"
    )
    a, b = eager.encode_images(frames[:6]), twin.encode_images(frames[:6])
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.999
    tag_eager = ImageTagger("embedded:ram-tiny", device="cuda", dtype="float16", batch_size=4)
    tag_twin = ImageTagger(
        "embedded:ram-tiny", device="cuda", dtype="float16", batch_size=4, backend="torch-cudagraphs"
    )
    np.testing.assert_allclose(tag_twin.logits(frames[:4]), tag_eager.logits(frames[:4]), atol=2e-2)
