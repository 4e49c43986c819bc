"""Untrusted input names never write outside the run directory; no code path can reach a shell.

Input files whose names hold unicode, spaces, shell characters, leading dashes and 200+ characters,
and list-file entries with ``../``, absolute paths, NUL and over-long names, go through a real
``probe`` run; the test walks the whole temporary parent directory for anything written outside.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import vidfast

WEIRD = [
    "vidéo 日本語.mp4",
    "$(touch pwned); `touch pwned2` | rm -rf ~.mp4",
    "-rf --help.mp4",
    "a" * 200 + ".mp4",
    "..hidden.mp4",
    "new\nline.mp4",
]


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_weird_input_names_stay_inside_the_run_dir(tmp_path: Path, synth_h264, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "in" / "deep"
    src.mkdir(parents=True)
    for name in WEIRD:
        shutil.copy(synth_h264.path, src / name)
    listing = src / "list.txt"
    entries = ["../deep/" + WEIRD[0], str(src / WEIRD[1]), "../../../../../../etc/passwd.mp4",
               "bad\x00name.mp4", "b" * 300 + ".mp4", "/nonexistent/abs.mp4"]
    listing.write_text("\n".join(entries) + "\n")
    before = _files(tmp_path)
    out = tmp_path / "parent" / "run"
    result = vidfast.run([str(src), str(listing)], out, recipe="probe", progress=False)
    new = _files(tmp_path) - before
    assert sorted(p for p in new if not p.startswith("parent")) == []
    assert not any((tmp_path / n).exists() for n in ("pwned", "pwned2"))
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    # the directory's 6 videos (the list's first two entries are the same files) + 4 bad list entries
    assert len(rows) == len(WEIRD) + 4 == result.report["videos"]["total"]
    assert len({r["video_id"] for r in rows}) == len(rows)
    done = [r for r in rows if r["status"] == "done"]
    assert len(done) == len(WEIRD)
    reasons = {Path(r["video"]).name[:8]: r["reason"] for r in rows if r["status"] == "failed"}
    assert reasons == {"passwd.m": "missing", "bad\x00name": "bad_name", "b" * 8: "bad_name", "abs.mp4": "missing"}
    for stage_dir in (out / "state").iterdir():
        for f in stage_dir.iterdir():  # state files are named by the sanitised id
            assert len(f.name.encode()) < 120 and not f.name.startswith(".") and "\n" not in f.name


SHELL_CALLS = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"), ("os", "execl"),
               ("os", "spawnv"), ("os", "posix_spawn"), ("pty", "spawn")}


def test_no_module_can_hand_text_to_a_shell() -> None:
    """No vidfast module imports subprocess or calls os.system/popen/exec*/spawn*; so LLM text (or any
    other input) can never reach a shell. A new use must be reviewed and added here deliberately."""
    allowed: set[str] = set()  # modules allowed to run programs (argument lists, never shell=True)
    root = Path(vidfast.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        rel = str(path.relative_to(root))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                if any(n and n.split(".")[0] in ("subprocess", "pty", "commands") for n in names):
                    offenders.append(f"{rel}:{node.lineno} imports a process module")
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if (node.value.id, node.attr) in SHELL_CALLS:
                    offenders.append(f"{rel}:{node.lineno} uses {node.value.id}.{node.attr}")
            elif isinstance(node, ast.keyword) and node.arg == "shell":
                offenders.append(f"{rel}:{node.lineno} passes shell=")
        if rel in allowed:
            offenders = [o for o in offenders if not o.startswith(rel)]
    assert offenders == []
