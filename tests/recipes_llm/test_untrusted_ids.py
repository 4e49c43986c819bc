"""Untrusted ids (caption keys) never write outside the run directory and get collision-free names.

The answers come from the canned engine of ``test_llm_recipe_formats`` (the point is where the export
writes, not what the model says); captions parsing, the executor, the store and the export are real.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_llm_recipe_formats import FormatEngine

import vidfast
from vidfast.runtime.records import safe_file_stem
from vidfast.stages.generate import base as llm_base

NASTY = [
    "../../escaped",
    "/tmp/absolute_escape",
    "a\x00b",
    "x" * 300,
    "vidéo_日本語",
    "$(touch pwned); `touch pwned2` | rm -rf ~ && echo >pwned3",
    "..",
    ".",
    "a/b/c",
    "a_b_c",
    "v_QOlSCBRmfWY",
]


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_caption_keys_stay_inside_the_run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_base, "build_engine", lambda *a, **k: FormatEngine(max_retries=0))
    monkeypatch.chdir(tmp_path)
    caps = tmp_path / "caps.json"
    caps.write_text(json.dumps({k: f"A man opens door number {i}." for i, k in enumerate(NASTY)}))
    before = _files(tmp_path)
    out = tmp_path / "parent" / "run"
    result = vidfast.run([str(caps)], out, recipe="videochatgpt", preset="embedded", progress=False,
                         overrides=["llm.endpoint=canned-format", "runtime.workers=1", f"llm.captions={caps}"])
    assert result.report["videos"]["total"] == len(NASTY)
    new = _files(tmp_path) - before
    outside = sorted(p for p in new if not p.startswith("parent/run") and p != "parent")
    assert outside == [], f"written outside the run directory: {outside}"
    assert not Path("/tmp/absolute_escape.json").exists()
    assert not any((tmp_path / n).exists() for n in ("pwned", "pwned2", "pwned3"))
    manifest = {r["video"]: r for r in map(json.loads, (out / "manifest.jsonl").read_text().splitlines())}
    assert sorted(manifest) == sorted(NASTY)  # every id exactly once
    assert len({r["video_id"] for r in manifest.values()}) == len(NASTY)
    # an id is a file name: a key with a path separator matches no video name and fails clearly; "." and
    # ".." name existing directories, which this recipe's vision path refuses as "not a video file"
    failed = {k: r["reason"] for k, r in manifest.items() if r["status"] == "failed"}
    assert failed == {**{k: "NoCaption" for k in NASTY if "/" in k}, ".": "not_a_video", "..": "not_a_video"}
    done = [k for k in NASTY if k not in failed]
    assert len(done) == 6
    # every other id has exactly one file, named by the documented scheme; distinct ids never share one
    per_video = sorted(p.name for p in (out / "per_video").iterdir())
    assert per_video == sorted(f"{safe_file_stem(k)}.json" for k in done)
    assert all("\x00" not in n and "/" not in n and len(n) <= 110 for n in per_video)
    flat = json.loads((out / "videochatgpt_instruct.json").read_text())
    assert {r["video_id"] for r in flat} == set(done)  # outputs keep the original ids


def test_safe_file_stem_scheme() -> None:
    assert safe_file_stem("v_QOlSCBRmfWY") == "v_QOlSCBRmfWY"  # ordinary ids keep their names
    ids = NASTY + ["a b", "a_b", "a\tb", "-rf", "~", "x~1", "é", "e\u0301", "A" * 100, "A" * 101, ""]
    stems = [safe_file_stem(i) for i in ids]
    assert len(set(stems)) == len(ids)  # collision-free
    for i, s in zip(ids, stems):
        assert s not in (".", "..") and not s.startswith(".") and "/" not in s and "\x00" not in s
        assert len(s) <= 100 and s.isascii()
        assert (s == i) != ("~" in s)  # rewritten ones, and only those, carry the ~hash
