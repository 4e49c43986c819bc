"""Synthetic test videos with known truth: ``generate(out, SynthOptions) -> SynthTruth`` (+ JSON
sidecar), ``load_truth``, the per-frame index code (``draw_code``/``read_code``), the scene kinds,
and the ``synth`` click command in ``vidfast.synth.cli``."""

from vidfast.synth.code import draw_code, read_code
from vidfast.synth.content import SCENE_KINDS, SceneKind
from vidfast.synth.generate import SceneTruth, SynthOptions, SynthTruth, generate, load_truth

__all__ = [
    "SCENE_KINDS",
    "SceneKind",
    "SceneTruth",
    "SynthOptions",
    "SynthTruth",
    "draw_code",
    "generate",
    "load_truth",
    "read_code",
]
