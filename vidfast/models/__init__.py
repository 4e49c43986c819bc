"""Model manifests (``models/*.yaml``): what each model is, where it comes from, how to feed it.

``load_manifest(name)`` and ``all_manifests()`` read and validate them; ``manifest_for(ref)`` maps a
user's model reference (``embedded:clip-tiny``, an alias such as ``smollm2``, or an HF id) to its
manifest when one exists. Model wrappers and loaders build on these.
"""

from vidfast.models.manifest import ModelManifest, all_manifests, load_manifest, manifest_for

__all__ = ["ModelManifest", "all_manifests", "load_manifest", "manifest_for"]
