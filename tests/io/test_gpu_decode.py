"""GPU decode backends: DALI's CPU decoder on VP9/MJPEG against the PyAV sampler, backend selection,
and the per-video errors. (NVDEC and DALI's mixed backend need a GPU: tests marked needs_cuda.)

Frame exactness is checked with the synthetic clips' index code (each frame draws its own index), on
variable-frame-rate video; pixels are compared with PyAV's rgb24 conversion within the tolerance the
module states (the decoders upsample chroma differently).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from vidfast.errors import BackendUnavailable, ConfigError, DecodeError
from vidfast.io import gpu_decode
from vidfast.io.sampling import SamplePlan, plan_uniform, sample_frames
from vidfast.synth.code import read_code
from vidfast.synth.generate import SynthOptions, generate

# the module's stated tolerance for decoder-vs-PyAV pixels (uint8 levels)
MEAN_TOL, P99_TOL = 3.0, 20.0


def _clip(tmp: Path, name: str, **opts: object) -> Path:
    path = tmp / name
    generate(path, SynthOptions(**opts))
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("gpu-decode")
    return {
        "vp9_vfr": _clip(tmp, "vfr.webm", codec="vp9", duration=3.0, size=(320, 180), vfr=True, index_code=True,
                         seed=3, gop=12),
        "mjpeg": _clip(tmp, "clip.avi", codec="mjpeg", duration=2.0, size=(160, 96), index_code=True, seed=4),
        "vp9_rot": _clip(tmp, "rot.webm", codec="vp9", duration=1.5, size=(192, 108), rotation=90, seed=5,
                         scenes=2),
        "h264": _clip(tmp, "clip.mp4", codec="h264", duration=1.5, size=(160, 96), seed=6, scenes=2),
    }  # fmt: skip


def _need_dali() -> None:
    pytest.importorskip(
        "nvidia.dali", reason="nvidia-dali-cuda130 not installed (pip install 'vidfast[dali]')"
    )


def _pixels_close(got: np.ndarray, want: np.ndarray) -> None:
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
    assert diff.mean() <= MEAN_TOL and np.percentile(diff, 99) <= P99_TOL, (
        diff.mean(),
        np.percentile(diff, 99),
    )


@pytest.mark.parametrize("clip", ["vp9_vfr", "mjpeg"])
def test_dali_cpu_samples_the_reference_frames(clips: dict[str, Path], clip: str) -> None:
    _need_dali()
    path = clips[clip]
    plan = plan_uniform([(0.0, 1.0), (0.9, 2.0), (1.95, 2.0)], 7)  # overlapping and duplicate-heavy ranges
    ref = sample_frames(path, plan, seek_threshold_s=None, skip_unwanted=False)  # the reference pass
    got = sample_frames(path, plan, backend="dali")
    assert isinstance(got.images, np.ndarray) and got.images.shape == ref.images.shape
    np.testing.assert_array_equal(got.indices, ref.indices)
    np.testing.assert_array_equal(got.times_s, ref.times_s)
    np.testing.assert_array_equal(got.range_ids, ref.range_ids)
    assert [read_code(im) for im in got.images] == [int(i) for i in got.indices]  # the frames themselves
    _pixels_close(got.images, ref.images)
    assert got.stats.frames_decoded == len(np.unique(ref.indices))


def test_dali_cpu_scales_and_rotates_like_pyav(clips: dict[str, Path]) -> None:
    _need_dali()
    plan = plan_uniform([(0.0, 1.4)], 4)
    ref = sample_frames(clips["vp9_rot"], plan, short_side=64)
    got = sample_frames(clips["vp9_rot"], plan, short_side=64, backend="dali")
    assert (
        got.images.shape == ref.images.shape and got.images.shape[1] > got.images.shape[2]
    )  # upright portrait
    np.testing.assert_array_equal(got.indices, ref.indices)
    _pixels_close(got.images, ref.images)


def test_dali_cpu_refuses_h264_with_the_fix(clips: dict[str, Path]) -> None:
    _need_dali()
    with pytest.raises(
        DecodeError, match=r"codec h264 cannot be decoded by DALI's CPU decoder.*decode.backend=pyav"
    ):
        sample_frames(clips["h264"], plan_uniform([(0.0, 1.0)], 2), backend="dali")
    # the pipeline is still usable for the next video (one bad video does not stop a run)
    assert len(sample_frames(clips["mjpeg"], plan_uniform([(0.0, 1.0)], 2), backend="dali")) == 2


def test_a_damaged_file_is_a_per_video_error(tmp_path: Path, clips: dict[str, Path]) -> None:
    _need_dali()
    bad = tmp_path / "cut.webm"
    bad.write_bytes(clips["vp9_vfr"].read_bytes()[:900])
    with pytest.raises(DecodeError):
        sample_frames(bad, plan_uniform([(0.0, 2.0)], 3), backend="dali")
    assert len(sample_frames(clips["vp9_vfr"], plan_uniform([(0.0, 2.0)], 3), backend="dali")) == 3


def test_gpu_only_formats_and_empty_plans(clips: dict[str, Path]) -> None:
    _need_dali()
    with pytest.raises(ConfigError, match="rgb24 frames only"):
        sample_frames(clips["mjpeg"], plan_uniform([(0.0, 1.0)], 2), fmt="gray", backend="dali")
    empty = sample_frames(clips["mjpeg"], SamplePlan.from_times([]), backend="dali")
    assert len(empty) == 0


def _reasons(monkeypatch: pytest.MonkeyPatch, **reasons: str | None) -> None:
    base = {"pyav": None, "dali": None, "dali-gpu": None, "nvdec": None}
    monkeypatch.setattr(gpu_decode, "backend_reasons", lambda: base | reasons)


def test_auto_prefers_gpu_decode_and_explicit_choices_explain(monkeypatch: pytest.MonkeyPatch) -> None:
    _reasons(monkeypatch)
    assert gpu_decode.resolve_backend("auto") == ("dali", "gpu")
    _reasons(monkeypatch, **{"dali": "no dali", "dali-gpu": "no dali"})
    assert gpu_decode.resolve_backend("auto") == ("nvdec", "gpu")
    _reasons(monkeypatch, **{"dali-gpu": "no CUDA device", "nvdec": "no CUDA device"})
    assert gpu_decode.resolve_backend("auto") == ("pyav", "cpu")
    assert gpu_decode.resolve_backend("dali") == ("dali", "cpu")  # DALI's CPU decoder
    with pytest.raises(BackendUnavailable, match="'nvdec' is unavailable: no CUDA device"):
        gpu_decode.resolve_backend("nvdec")
    _reasons(monkeypatch, dali="nvidia.dali does not import (x); install with: pip install 'vidfast[dali]'")
    with pytest.raises(BackendUnavailable, match=r"vidfast\[dali\]"):
        gpu_decode.resolve_backend("dali")
    with pytest.raises(ConfigError, match="valid: auto, pyav, dali, nvdec"):
        gpu_decode.resolve_backend("torchcodec")


def test_this_machine_resolves_auto_consistently() -> None:
    """Without CUDA, auto is PyAV and sampling with it equals the reference call."""
    from vidfast.backends import cuda_reason

    if cuda_reason() is None:
        pytest.skip("a GPU is visible: auto decodes on it")
    assert gpu_decode.resolve_backend("auto") == ("pyav", "cpu")
    with pytest.raises(BackendUnavailable, match="nvdec"):
        gpu_decode.resolve_backend("nvdec")


def test_codec_checks_name_the_fix() -> None:
    gpu_decode.check_codec("dali", "cpu", "vp9", "a.webm")
    gpu_decode.check_codec("dali", "gpu", "h264", "a.mp4")
    with pytest.raises(DecodeError, match="no NVDEC decoder; use decode.backend=pyav"):
        gpu_decode.check_codec("nvdec", "gpu", "prores", "a.mov")


def test_nvdec_errors_become_per_video_decode_errors(
    monkeypatch: pytest.MonkeyPatch, clips: dict[str, Path]
) -> None:
    """PyNvVideoCodec's own exceptions are wrapped into DecodeError naming the file and the fix."""
    module = types.ModuleType("PyNvVideoCodec")

    class SimpleDecoder:
        def __init__(self, path: str, **kwargs: object) -> None:
            raise RuntimeError("CUVID_ERROR: no decoder for this stream\ndetails")

    module.SimpleDecoder = SimpleDecoder
    module.OutputColorType = types.SimpleNamespace(RGB="RGB")
    monkeypatch.setitem(sys.modules, "PyNvVideoCodec", module)
    pytest.importorskip("torch")
    with pytest.raises(
        DecodeError,
        match=r"clip.mp4: NVDEC \(PyNvVideoCodec\) could not decode it \(RuntimeError: "
        r"CUVID_ERROR: no decoder for this stream\); use decode.backend=pyav",
    ):
        gpu_decode.decode_frames_nvdec(clips["h264"], np.array([0, 3]))


@pytest.mark.needs_cuda
@pytest.mark.parametrize("backend", ["dali", "nvdec"])
def test_gpu_decoders_match_pyav_on_h264(backend: str, clips: dict[str, Path], tmp_path: Path) -> None:
    """On a GPU: NVDEC through DALI or PyNvVideoCodec gives the reference frames of a VFR H.264 clip,
    on the GPU (device_frames) and within the pixel tolerance."""
    pytest.importorskip("nvidia.dali" if backend == "dali" else "PyNvVideoCodec")
    path = _clip(
        tmp_path, "vfr.mp4", codec="h264", duration=3.0, size=(320, 180), vfr=True, index_code=True, seed=8
    )
    plan = plan_uniform([(0.0, 1.2), (1.0, 3.0)], 6)
    ref = sample_frames(path, plan, seek_threshold_s=None, skip_unwanted=False)
    got = sample_frames(path, plan, backend=backend, device_frames=True)
    assert got.images.is_cuda
    np.testing.assert_array_equal(got.indices, ref.indices)
    host = got.images.cpu().numpy()
    assert [read_code(im) for im in host] == [int(i) for i in got.indices]
    _pixels_close(host, ref.images)


def test_grounding_recipe_with_dali_matches_pyav(clips: dict[str, Path], tmp_path: Path) -> None:
    """The grounding recipe end to end with decode.backend=dali (DALI's CPU decoder, frames fetched by
    the sampler since nothing is kept): same scenes, merges, captions and records as with PyAV; the
    similarities move by the decoders' pixel differences only. A missing video fails alone."""
    _need_dali()
    pytest.importorskip("transformers")
    import json

    import vidfast

    def run(backend: str) -> tuple[dict, Path]:
        out = tmp_path / backend
        overrides = [f"decode.backend={backend}", "grounding.keep_frames=false", "grounding.emit_intermediates=true",
                     "grounding.selection='-1'", "grounding.no_context=keep", "runtime.workers=1"]  # fmt: skip
        result = vidfast.run([str(clips["vp9_vfr"]), str(tmp_path / "gone.webm")], out, recipe="grounding",
                             preset="embedded", progress=False, overrides=overrides)  # fmt: skip
        return result.report, out

    (ref, ref_dir), (got, got_dir) = run("pyav"), run("dali")
    assert got["videos"] == ref["videos"] == {"total": 2, "done": 1, "failed": 1, "skipped": 0}
    assert got["stages"]["scene_frames"]["counters"]["frames_fetched"] > 0
    for name in ("scenes.jsonl", "scenes-merged.jsonl", "captions.jsonl"):
        assert (got_dir / "intermediates" / name).read_text() == (
            ref_dir / "intermediates" / name
        ).read_text(), name
    records = [(got_dir / "grounding.jsonl").read_text(), (ref_dir / "grounding.jsonl").read_text()]
    assert records[0] == records[1] and records[0]

    def sims(d: Path) -> list:
        return [
            json.loads(ln)["similarity_matrix"] for ln in (d / "intermediates/scenes_similarity.jsonl").open()
        ]

    assert np.allclose(np.array(sims(got_dir)), np.array(sims(ref_dir)), atol=0.02)
