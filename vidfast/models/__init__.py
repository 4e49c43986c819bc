"""Model manifests (``models/*.yaml``): what each model is, where it comes from, how to feed it.

``load_manifest(name)`` and ``all_manifests()`` read and validate them; ``manifest_for(ref)`` maps a
user's model reference (``embedded:clip-tiny``, an alias such as ``smollm2``, or an HF id) to its
manifest when one exists. Model wrappers and loaders build on these.

- ``resolve_model_dir(ref)`` / ``loader`` — offline model directories; ``embedded:<name>`` tiny models
- ``ClipEncoder`` — CLIP image/text embeddings (torch, onnxruntime)
- ``Blip2Captioner`` — batched BLIP-2 frame captions
- ``OwlDetector`` — OWLv2 / OWL-ViT region boxes (objectness or text-query ranking, NMS, top-k)
- ``ZeroShotTagger`` — Tag2Text/RAM-vocabulary tags from CLIP zero-shot scores
- ``ImageTagger`` — tags from a Tag2Text / RAM tagging model (``vidfast.models.tag2text``)
- ``ImageSpec`` / ``pixel_values`` — model preprocessing (vidfast.ops fast path, HF-equivalent)
"""

from vidfast.models.blip2 import Blip2Captioner
from vidfast.models.clip import ClipEncoder
from vidfast.models.detector import OwlDetector
from vidfast.models.loader import resolve_model_dir
from vidfast.models.manifest import ModelManifest, all_manifests, load_manifest, manifest_for
from vidfast.models.preprocess import ImageSpec, pixel_values
from vidfast.models.tagger import ZeroShotTagger

__all__ = [
    "Blip2Captioner",
    "ClipEncoder",
    "ImageSpec",
    "ModelManifest",
    "OwlDetector",
    "ZeroShotTagger",
    "all_manifests",
    "load_manifest",
    "manifest_for",
    "pixel_values",
    "resolve_model_dir",
]
