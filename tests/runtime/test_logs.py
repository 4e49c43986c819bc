"""Library output of a run goes to RUN_DIR/vidfast.log; vidfast's own progress display stays on the
terminal, one bar per stage. Checked in child processes, whose standard error is what a user sees."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

NOISY = """
import os, subprocess, sys, warnings
from vidfast.logs import console, route_library_output
with route_library_output(sys.argv[1], verbose=sys.argv[2] == "1") as log:
    warnings.warn("a deprecated argument", FutureWarning)
    print("python-level noise", file=sys.stderr)
    os.write(2, b"c-level noise\\n")
    subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('child-process noise\\\\n')"])
    print("vidfast progress", file=console(), flush=True)
print("after the run", file=sys.stderr)
"""
NOISE = ("a deprecated argument", "python-level noise", "c-level noise", "child-process noise")


def _run(tmp_path: Path, verbose: bool) -> tuple[str, str]:
    proc = subprocess.run([sys.executable, "-c", NOISY, str(tmp_path), "1" if verbose else "0"],
                          capture_output=True, text=True, check=True)
    return proc.stderr, (tmp_path / "vidfast.log").read_text()


def test_library_output_is_routed_to_the_run_log(tmp_path: Path) -> None:
    err, log = _run(tmp_path, verbose=False)
    assert all(n in log for n in NOISE), log
    assert not any(n in err for n in NOISE), err
    assert "vidfast progress" in err and "vidfast progress" not in log
    assert "after the run" in err  # standard error is given back


def test_verbose_shows_library_output(tmp_path: Path) -> None:
    err, log = _run(tmp_path, verbose=True)
    assert all(n in err for n in NOISE) and "vidfast progress" in err
    assert "verbose" in log and not any(n in log for n in NOISE)


def test_a_run_shows_one_bar_per_stage_and_logs_the_rest(tmp_path: Path, synth_h264) -> None:
    code = ("import sys, vidfast; vidfast.run([sys.argv[1]], sys.argv[2], recipe='probe', progress=True)")
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", code, str(synth_h264.path), str(out)], capture_output=True,
                          text=True, check=True)
    bars = [line for line in proc.stderr.replace("\r", "\n").splitlines() if "1/1" in line]
    assert {b.split(":")[0].strip() for b in bars} == {"probe", "decode_check"}, proc.stderr
    assert (out / "vidfast.log").is_file()
