"""``detect_scenes``: one decode pass -> per-frame scores -> a detector's cuts -> SceneList.

Score backends: ``native`` (C++/OpenMP), ``reference`` (numpy/OpenCV, always available, the oracle)
and ``cuda`` (vidfast._C CUDA kernel). ``backend="auto"`` takes the first of native, reference that
can run: frames decoded by PyAV live in host memory, where scoring a 256-px frame costs less than
uploading it, so ``cuda`` is only used when asked for (or by callers whose frames are already on
the GPU, via ``score_native.content_sums_cuda``). An explicit choice that cannot run raises
BackendUnavailable naming the reason.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import numpy as np

from vidfast.errors import BackendUnavailable, ConfigError
from vidfast.io.decode import DecodeStats
from vidfast.scenes.adaptive import AdaptiveDetector
from vidfast.scenes.base import FrameClock, SceneList, SceneScores, ScoreBackend, build_scene_list
from vidfast.scenes.content import ContentDetector, content_values
from vidfast.scenes.frames import DEFAULT_BATCH, FrameBatch, StreamFacts, stream_batches
from vidfast.scenes.score_native import CudaScoreBackend, NativeScoreBackend
from vidfast.scenes.score_reference import ReferenceScoreBackend
from vidfast.scenes.transnetv2 import TransNetV2Detector

class FrameObserver(Protocol):
    """Watches a detection decode: ``start`` once with the stream facts, then ``batch`` per frame batch."""

    def start(self, facts: StreamFacts) -> None: ...

    def batch(self, frames: FrameBatch, components: np.ndarray) -> None: ...


DETECTORS: tuple[str, ...] = ("content", "adaptive", "transnetv2")
SCORE_BACKENDS: tuple[type[ScoreBackend], ...] = (NativeScoreBackend, ReferenceScoreBackend, CudaScoreBackend)
_AUTO: tuple[str, ...] = ("native", "reference")


def available_score_backends() -> dict[str, str | None]:
    """Every score backend with None (usable) or the reason it cannot run here."""
    return {cls.name: cls().reason() for cls in SCORE_BACKENDS}


def choose_score_backend(requested: str = "auto") -> ScoreBackend:
    """The requested score backend (which must be usable) or, for ``auto``, the fastest usable one."""
    backends = [cls() for cls in SCORE_BACKENDS]
    if requested != "auto":
        match = [b for b in backends if b.name == requested]
        if not match:
            raise ConfigError(f"unknown scene score backend {requested!r}; valid: auto, "
                              + ", ".join(b.name for b in backends))
        reason = match[0].reason()
        if reason:
            raise BackendUnavailable(f"scene score backend {requested!r} is unavailable: {reason}")
        return match[0]
    reasons = []
    for b in (b for b in backends if b.name in _AUTO):
        reason = b.reason()
        if reason is None:
            return b
        reasons.append(f"{b.name}: {reason}")
    raise BackendUnavailable("no scene score backend can run: " + "; ".join(reasons))


def make_detector(detector: str | Any, threshold: float | None, min_scene_len: Any, **kwargs: Any) -> Any:
    """A detector object from its name and the common knobs (threshold meaning depends on the detector)."""
    if not isinstance(detector, str):
        return detector
    if detector == "content":
        extra = {"threshold": threshold} if threshold is not None else {}
        return ContentDetector(min_scene_len=min_scene_len, **extra, **kwargs)
    if detector == "adaptive":
        extra = {"adaptive_threshold": threshold} if threshold is not None else {}
        return AdaptiveDetector(min_scene_len=min_scene_len, **extra, **kwargs)
    if detector == "transnetv2":
        extra = {"threshold": threshold} if threshold is not None else {}
        return TransNetV2Detector(**extra, **kwargs)
    raise ConfigError(f"unknown detector {detector!r}; valid: {', '.join(DETECTORS)}")


def content_components(path: str | os.PathLike[str], backend: ScoreBackend, with_edges: bool = False,
                       kernel_size: int = 0, downscale: float | None = None, batch: int = DEFAULT_BATCH,
                       stats: DecodeStats | None = None, fused: bool = True,
                       observer: FrameObserver | None = None,
                       segments: int | None = None) -> tuple[np.ndarray, FrameClock, StreamFacts]:
    """Components [T, 4] (hue, sat, lum, edges) of every frame and the frame clock, in one pass.

    ``observer`` (optional) sees the stream facts once, then every batch with its components, as they
    are computed (its frames kept for it), so it can act during the same decode. The video is decoded
    as ``segments`` stretches at once (None: one per core; 1: one decoder; an observer must then be
    splittable, see segments.py); the result is the same."""
    if segments is None or segments > 1:
        from vidfast.scenes.segments import default_segments, segmented_components

        done = segmented_components(path, backend, with_edges, kernel_size, downscale, batch, stats, fused,
                                    default_segments() if segments is None else segments, observer)
        if done is not None:
            return done
    last: list[np.ndarray | None] = [None]  # the previous batch's last frame (batches are scored in order)

    def score(b: FrameBatch) -> np.ndarray:
        values = backend.scores(b.images, last[0], with_edges, kernel_size)
        last[0] = b.images[-1]
        return values

    facts, batches = stream_batches(path, "scenedetect", downscale, batch, stats, fused=fused,
                                    keep_frames=observer is not None, post=score)
    if observer is not None:
        observer.start(facts)
    parts, pts = [], []
    for b in batches:
        parts.append(b.result)
        pts.append(b.pts)
        if observer is not None:
            observer.batch(b, parts[-1])
    components = np.concatenate(parts) if parts else np.zeros((0, 4))
    clock = FrameClock(np.concatenate(pts) if pts else np.zeros(0, np.int64), facts.time_base, facts.rate)
    return components, clock, facts


def detect_scenes(
    path: str | os.PathLike[str],
    detector: str | ContentDetector | AdaptiveDetector | TransNetV2Detector = "content",
    threshold: float | None = None,
    min_scene_len: int | float | str = 15,
    downscale: float | None = None,
    backend: str = "auto",
    batch: int = DEFAULT_BATCH,
    stats: DecodeStats | None = None,
    fused_decode: bool = True,
    observer: FrameObserver | None = None,
    segments: int | None = None,
    **detector_kwargs: Any,
) -> SceneList:
    """Detect shots in ``path`` with PySceneDetect-0.7-identical cuts (content / adaptive) or TransNetV2.

    ``threshold`` is ContentDetector's threshold (27), AdaptiveDetector's adaptive_threshold (3) or
    TransNetV2's probability threshold (0.5); None keeps the default. ``downscale`` None = scenedetect's
    automatic ~256-px factor. ``fused_decode`` lets the native kernel build the small frames from the
    yuv420p planes (self-checked per video against FFmpeg BGR24 + cv2.resize; False always uses the
    latter, as scenedetect does). Extra keywords go to the detector (weights, luma_only, kernel_size,
    filter_mode, window_width, min_content_val, device, ...). The result carries per-frame score arrays.
    ``observer`` (content / adaptive) watches the same decode batch by batch (see keeper.py).
    ``segments``: decoders run at once on stretches of the video (None: one per core; 1: one), same cuts.
    """
    det = make_detector(detector, threshold, min_scene_len, **detector_kwargs)
    if isinstance(det, TransNetV2Detector):
        return _detect_transnet(path, det, batch, stats)
    if not isinstance(det, (ContentDetector, AdaptiveDetector)):
        raise ConfigError(f"detector must be one of {', '.join(DETECTORS)} or a detector object, got {det!r}")
    scorer = choose_score_backend(backend)
    components, clock, facts = content_components(path, scorer, det.needs_edges, det.kernel_size or 0, downscale,
                                                  batch, stats, fused_decode, observer, segments)
    content_val = content_values(components, det.weights)
    scores = SceneScores(clock.frame_nums, components, content_val)
    if isinstance(det, AdaptiveDetector):
        scores.adaptive_ratio = det.ratios(content_val)
    cuts = det.cut_indices(content_val, clock)
    conv = facts.converter
    params = {**det.params(), "frame_size": list(facts.out_size), "fused_decode": bool(conv and conv.fused),
              "fused_fallback": conv.fallback_reason if conv else None}
    return build_scene_list(cuts, clock, det.name, scorer.name, params, scores)


def _detect_transnet(path: str | os.PathLike[str], det: TransNetV2Detector, batch: int,
                     stats: DecodeStats | None) -> SceneList:
    facts, batches = stream_batches(path, "transnet", None, max(batch, 64), stats)
    images, pts = [], []
    for b in batches:
        images.append(b.images)
        pts.append(b.pts)
    frames = np.concatenate(images) if images else np.zeros((0, 27, 48, 3), np.uint8)
    clock = FrameClock(np.concatenate(pts) if pts else np.zeros(0, np.int64), facts.time_base, facts.rate)
    single, many = det.predict(frames)
    scores = SceneScores(clock.frame_nums, transnet_single=single, transnet_many=many)
    return build_scene_list(det.cut_indices(single), clock, det.name, f"torch-{det.device}", det.params(), scores)
