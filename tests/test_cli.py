"""End to end: ``vidfast run --recipe probe`` and the Python API on real (synthetic and bad) videos."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import vidfast
from vidfast.cli import main


def _manifest(out: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    return {Path(r["video"]).name: r for r in rows}


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def inputs_dir(tmp_path, synth_h264, synth_vp9, synth_mjpeg, synth_vfr, bad_videos) -> Path:
    """A directory of good videos, each bad kind of input, and a broken (dangling) entry."""
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    for v in (synth_h264, synth_vp9, synth_mjpeg, synth_vfr):
        shutil.copy(v.path, d / "sub" / v.path.name)
    for kind, path in bad_videos.items():
        shutil.copy(path, d / f"bad_{kind}.mp4")  # an audio-only .mp4 is what users meet in practice
    (d / "gone.mp4").symlink_to(d / "deleted-target.mp4")
    return d


def test_probe_recipe_records_every_video_and_quarantines_bad_ones(tmp_path, inputs_dir) -> None:
    out = tmp_path / "run"
    code, text = _invoke("run", str(inputs_dir), "-o", str(out), "--recipe", "probe", "--no-progress")
    assert code == 0, text
    rows = _manifest(out)
    good = ["h264.mp4", "vp9.webm", "mjpeg.avi", "vfr.mp4"]
    assert all(rows[n]["status"] == "done" and rows[n]["error"] is None for n in good)
    assert rows["vfr.mp4"]["stages"] == {"probe": "done", "decode_check": "done"}
    reasons = {n: r["reason"] for n, r in rows.items() if r["status"] == "failed"}
    assert reasons == {
        "bad_empty.mp4": "empty_file", "bad_truncated.mp4": "truncated", "bad_random.mp4": "not_a_video",
        "bad_audio_only.mp4": "no_video_stream", "gone.mp4": "missing",
    }
    assert all(rows[n]["error"] and str(inputs_dir) in rows[n]["error"] for n in reasons)
    report = json.loads((out / "report.json").read_text())
    assert report["videos"] == {"total": 9, "done": 4, "failed": 5, "skipped": 0}
    assert report["failures_by_reason"]["empty_file"] == 1
    assert report["stages"]["probe"]["items_per_s"] > 0
    videos = [json.loads(line) for line in (out / "videos.jsonl").read_text().splitlines()]
    vfr = next(v for v in videos if v["video"].endswith("vfr.mp4"))
    assert vfr["vfr"] is True and vfr["decode"]["frames_decoded"] == vfr["frame_count"]
    assert len((out / "quarantine.jsonl").read_text().splitlines()) == 5
    assert "4 done, 5 failed" in text


def test_rerun_does_no_work_and_a_stage_config_change_reruns_only_that_stage(tmp_path, synth_h264, synth_vp9) -> None:
    out = tmp_path / "run"
    inputs = [str(synth_h264.path), str(synth_vp9.path)]
    first = vidfast.run(inputs, out, recipe="probe", progress=False)
    assert first.report["stages"]["decode_check"]["ok"] == 2
    again = vidfast.run(inputs, out, recipe="probe", progress=False)
    assert {s: again.report["stages"][s]["cached"] for s in ("probe", "decode_check")} == {"probe": 2, "decode_check": 2}
    assert again.report["stages"]["probe"]["ok"] == 0 and again.report["stages"]["decode_check"]["ok"] == 0
    changed = vidfast.run(inputs, out, recipe="probe", overrides=["probe.check_size=16"], progress=False)
    assert changed.report["stages"]["probe"]["cached"] == 2
    assert changed.report["stages"]["decode_check"]["ok"] == 2
    assert _manifest(out)["h264.mp4"]["stages"] == {"probe": "cached", "decode_check": "done"}


def test_list_files_naming_missing_videos(tmp_path, synth_h264) -> None:
    lst = tmp_path / "videos.txt"
    lst.write_text(f"{synth_h264.path}\nnot/here.mp4\n")
    out = tmp_path / "run"
    code, text = _invoke("run", str(lst), "-o", str(out), "--no-progress")
    assert code == 0
    rows = _manifest(out)
    assert rows["h264.mp4"]["status"] == "done"
    assert rows["here.mp4"]["reason"] == "missing" and "no such file" in rows["here.mp4"]["error"]
    assert rows["here.mp4"]["source"] == str(lst)
    code, _ = _invoke("run", str(lst), "-o", str(out), "--no-progress", "--strict")
    assert code == 1  # --strict turns recorded failures into a failing exit status


def test_missing_input_path_is_recorded_not_fatal(tmp_path, synth_h264) -> None:
    out = tmp_path / "run"
    result = vidfast.run([str(tmp_path / "nope"), str(synth_h264.path)], out, progress=False)
    assert result.report["videos"]["done"] == 1 and result.report["failures_by_reason"] == {"missing": 1}


def test_unreadable_file_inside_a_directory(tmp_path, synth_h264) -> None:
    root = Path(tempfile.mkdtemp(prefix="vidfast-perm-"))  # under /tmp, so an unprivileged user can reach it
    try:
        os.chmod(root, 0o777)
        d, out = root / "in", root / "run"
        d.mkdir(mode=0o777)
        shutil.copy(synth_h264.path, d / "ok.mp4")
        shutil.copy(synth_h264.path, d / "locked.mp4")
        os.chmod(d / "ok.mp4", 0o644)
        os.chmod(d / "locked.mp4", 0)
        if os.geteuid() != 0:
            vidfast.run([str(d)], out, progress=False)
        else:  # root reads any file: run the CLI as an unprivileged user instead
            if not shutil.which("setpriv"):
                pytest.skip("running as root and setpriv is unavailable to drop privileges")
            # vidfast itself is copied next to the videos, so where the checkout lives does not matter;
            # the interpreter and its installed dependencies must be readable by that user
            pkg = root / "pkg"
            shutil.copytree(Path(vidfast.__file__).parent, pkg / "vidfast", ignore=shutil.ignore_patterns("__pycache__"))
            os.chmod(pkg, 0o755)
            env = {**os.environ, "PYTHONPATH": str(pkg), "HOME": str(root)}
            drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]
            deps = subprocess.run([*drop, "-c", "import numpy, av, click, yaml, pydantic, vidfast.cli"],
                                  capture_output=True, text=True, env=env, cwd=root)
            if deps.returncode != 0:
                pytest.skip(f"the unprivileged user cannot use this interpreter's environment ({sys.prefix}): "
                            f"{deps.stderr.strip()[-200:]}")
            proc = subprocess.run([*drop, "-m", "vidfast.cli", "run", str(d), "-o", str(out), "--no-progress"],
                                  capture_output=True, text=True, env=env, cwd=root)
            assert proc.returncode == 0, proc.stderr
        rows = _manifest(out)
        assert rows["ok.mp4"]["status"] == "done"
        assert rows["locked.mp4"]["reason"] == "unreadable" and "permission" in rows["locked.mp4"]["error"].lower()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_unwritable_output_directory(tmp_path, synth_h264) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, text = _invoke("run", str(synth_h264.path), "-o", str(blocker / "run"), "--no-progress")
    assert code == 2 and "cannot write to the output directory" in text and "-o/--output" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "runtime.wrokers=2"], "unknown config key 'runtime.wrokers'. Did you mean 'runtime.workers'"),
        (["--set", "runtime.workers=lots"], "runtime.workers"),
        (["--recipe", "nope"], "unknown recipe 'nope'; available recipes: grounding, "),
        (["--preset", "huge"], "unknown preset 'huge'"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, synth_h264, args: list[str], message: str) -> None:
    code, text = _invoke("run", str(synth_h264.path), "-o", str(tmp_path / "run"), "--no-progress", *args)
    assert code == 2 and message in text and "Traceback" not in text


def test_info_lists_backends() -> None:
    code, text = _invoke("info")
    assert code == 0 and "native extension vidfast._C" in text and "pyav" in text
    code, text = _invoke("info", "--json")
    doc = json.loads(text)
    names = {(b["family"], b["name"]): b for b in doc["backends"]}
    assert names[("decode", "pyav")]["available"] is True
    assert names[("ops", "reference")]["available"] is True
    assert all(b["available"] or b["reason"] for b in doc["backends"])  # every unavailable one says why
    # which decode and vision runtime auto picks, and why (TensorRT's absence is named)
    assert set(doc["using"]) == {"decode", "vision"} and all(r["using"] and r["why"] for r in doc["using"].values())
    if not names[("vision", "tensorrt")]["available"]:
        assert doc["using"]["vision"]["why"].startswith("tensorrt: unavailable (")


def test_probe_command(synth_vfr) -> None:
    code, text = _invoke("probe", str(synth_vfr.path), "--json")
    assert code == 0 and json.loads(text)["vfr"] is True
    code, text = _invoke("probe", "/no/such/video.mp4")
    assert code == 2 and "no such file" in text


def test_scenes_command_prints_scenedetect_cuts(bikes_mp4) -> None:
    code, text = _invoke("scenes", str(bikes_mp4), "--json")
    doc = json.loads(text)
    assert code == 0 and doc["cuts"] == [30, 76, 137, 187, 242] and doc["fps"] == 25.0
    assert doc["scenes"][0][0] == 0.0 and doc["scenes"][1][0] == pytest.approx(30 / 25)
    code, text = _invoke("scenes", str(bikes_mp4), "--threshold", "1000")
    assert code == 0 and "0 cuts, 1 scenes" in text  # a single-shot video is one scene, not zero
