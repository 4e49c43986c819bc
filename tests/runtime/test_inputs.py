"""Expansion of run inputs: files, directories, list files."""

from __future__ import annotations

import json

import pytest

from vidfast.errors import InputError
from vidfast.inputs import expand_inputs


def test_directories_are_searched_recursively(tmp_path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ["a/x.mp4", "a/b/y.MKV", "a/notes.txt", "z.webm"]:
        (tmp_path / name).write_bytes(b"")
    got = [v.path for v in expand_inputs([str(tmp_path)])]
    assert [p.split(str(tmp_path))[1] for p in got] == ["/z.webm", "/a/x.mp4", "/a/b/y.MKV"]


def test_list_files_resolve_relative_to_themselves(tmp_path) -> None:
    (tmp_path / "v.mp4").write_bytes(b"")
    (tmp_path / "list.txt").write_text("# comment\nv.mp4\n\nmissing.mp4\n")
    (tmp_path / "list.jsonl").write_text(json.dumps({"video": "v.mp4"}) + "\n")
    (tmp_path / "list.json").write_text(json.dumps([{"video_fname": "w.mp4"}, "v.mp4"]))
    got = expand_inputs([str(tmp_path / "list.txt"), str(tmp_path / "list.jsonl"), str(tmp_path / "list.json")])
    assert [v.path.rsplit("/", 1)[1] for v in got] == ["v.mp4", "missing.mp4", "w.mp4"]  # de-duplicated
    assert got[1].source == str(tmp_path / "list.txt")


def test_missing_paths_are_kept_to_fail_later(tmp_path) -> None:
    got = expand_inputs([str(tmp_path / "nope.mp4")])
    assert len(got) == 1 and got[0].path.endswith("nope.mp4")


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("bad.jsonl", '{"video": "a.mp4"}\nnot json\n', r"bad.jsonl:2 is not valid JSON"),
        ("bad.json", '{"video": "a.mp4"}', "must hold a JSON list"),
        ("bad2.json", "[3]", r"bad2.json\[0\]: expected a path or an object with a 'video' field"),
    ],
)
def test_bad_list_files(tmp_path, name: str, content: str, pattern: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(InputError, match=pattern):
        expand_inputs([str(tmp_path / name)])


def test_no_inputs() -> None:
    with pytest.raises(InputError, match="no inputs given"):
        expand_inputs([])
