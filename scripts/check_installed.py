"""Check an installed vidfast the way a user meets it: run with the interpreter of the environment
vidfast was installed into, from a directory outside any checkout.

1. every module of the source tree is in the installed package, and every one imports;
2. the package and its data (presets, prompts, model manifests, tag vocabularies) come from that
   environment, not from a source tree;
3. ``vidfast run --recipe probe`` on a generated video writes a manifest and ``videos.jsonl`` whose
   rows are read back and checked;
4. ``vidfast info`` runs.

Usage: PYTHON scripts/check_installed.py WORKDIR   (exit status 0 when every check passes)
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Modules whose import needs an optional extra that a minimal install may lack: they are imported
# when their dependency is present and reported (not failed) when it is not.
OPTIONAL_DEPS = ("torch", "transformers", "onnxruntime", "faiss", "scenedetect", "vllm", "ray", "tensorrt", "nvidia")


def source_modules(pkg_dir: Path) -> set[str]:
    """Dotted names of every ``.py`` file under ``pkg_dir`` (``__init__`` files name their package)."""
    names = set()
    for path in pkg_dir.rglob("*.py"):
        parts = path.relative_to(pkg_dir.parent).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def import_everything(pkg_dir: Path) -> tuple[list[str], list[str]]:
    """Import every module file of the installed package (a walk of the files, not of ``__init__``
    packages, so a folder without ``__init__.py`` is imported too)."""
    imported, skipped = [], []
    for name in sorted(source_modules(pkg_dir)):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] in OPTIONAL_DEPS:
                skipped.append(f"{name} (needs {exc.name})")
                continue
            raise
        imported.append(name)
    return imported, skipped


def main() -> int:
    work = Path(sys.argv[1]).resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(work)
    import vidfast
    from vidfast.resources import data_dir

    env_root = Path(sys.prefix).resolve()
    pkg = Path(vidfast.__file__).resolve().parent
    assert env_root in pkg.parents, f"vidfast was imported from {pkg}, not from the environment {env_root}"
    for kind in ("models", "prompts"):
        found = sorted(p.name for p in data_dir(kind).glob("*.yaml"))
        assert found and env_root in data_dir(kind).resolve().parents, f"no {kind} data in the installed package"
    assert (pkg / "presets" / "embedded.yaml").is_file() and (pkg / "data" / "tags" / "tag_list.txt").is_file()
    source = Path(__file__).resolve().parents[1] / "vidfast"
    missing = source_modules(source) - source_modules(pkg) if source.is_dir() else set()
    assert not missing, f"modules of the source tree missing from the installed package: {sorted(missing)}"
    imported, skipped = import_everything(pkg)
    print(f"imported {len(imported)} modules from {pkg}" + (f"; skipped {skipped}" if skipped else ""))

    exe = shutil.which("vidfast", path=str(Path(sys.executable).parent)) or "vidfast"
    video = work / "clip.mp4"
    subprocess.run([exe, "synth", str(video), "--duration", "2", "--size", "160x90", "--scenes", "2"], check=True)
    out = work / "run"
    subprocess.run([exe, "run", str(video), "-o", str(out), "--recipe", "probe", "--no-progress", "--strict"],
                   check=True)
    rows = [json.loads(line) for line in (out / "videos.jsonl").read_text().splitlines()]
    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["frame_count"] == 50 and rows[0]["decode"]["frames_decoded"] == 50, rows
    assert [m["status"] for m in manifest] == ["done"], manifest
    subprocess.run([exe, "info"], check=True, stdout=subprocess.DEVNULL)
    print(f"installed vidfast works: probe run wrote {len(rows)} row ({rows[0]['frame_count']} frames) in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
