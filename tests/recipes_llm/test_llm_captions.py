"""Caption-file readers: both shapes, the key-lookup fix, sidecars, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidfast.captions import (
    CaptionIndex,
    caption_ids,
    read_captions,
    read_sidecar,
    strip_video_ext,
    task_name,
)
from vidfast.errors import InputError
from vidfast.recipes.llm_common import expand_llm_inputs


def _write(tmp_path: Path, doc: object, name: str = "c.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_activitynet_shape(caption_file: Path) -> None:
    caps = read_captions(caption_file)
    cap = caps["v_demo01"]
    assert cap.sentences == ("A man opens a red door.", " He walks into a kitchen.")
    assert cap.text == "A man opens a red door. He walks into a kitchen."
    assert cap.timestamps == ((0.0, 3.0), (3.0, 6.0)) and cap.duration == 6.0


def test_plain_text_shape(tmp_path: Path) -> None:
    caps = read_captions(_write(tmp_path, {"clip.mp4": "A dog runs."}))
    assert caps["clip.mp4"].text == "A dog runs."


def test_original_key_lookup_fixes_the_stripping_bug(tmp_path: Path) -> None:
    # The original did key[:-4].rstrip('.') and looked up the stripped key: 'v_abcdefghijk' became
    # 'v_abcdefg' and matched nothing. We look up with the real key and strip only known extensions.
    index = CaptionIndex(
        read_captions(
            _write(tmp_path, {"v_abcdefghijk": "one", "clip2.mp4": "two", "name.with.dots": "three"})
        )
    )
    assert index.find("/videos/v_abcdefghijk.mp4").text == "one"
    assert index.find("v_abcdefghijk").text == "one"
    assert index.find("/x/clip2.mp4").text == "two"  # key with extension, video with extension
    assert index.find("clip2").text == "two"  # key with extension, id without
    assert index.find("name.with.dots").text == "three"  # a dot is not an extension
    assert index.find("v_abcdefg") is None
    assert (
        strip_video_ext("a.b") == "a.b" and strip_video_ext("a.MKV") == "a" and task_name("/d/x.webm") == "x"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "must hold a JSON object"),
        ("{not json", "not valid JSON"),
        ('{"a": {"duration": 1}}', "'sentences' list"),
        ('{"a": {"sentences": [1]}}', "non-string sentences"),
        ('{"a": 5}', "caption string"),
    ],
)
def test_bad_caption_files_raise_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_captions(path)


def test_missing_caption_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read caption file"):
        read_captions(tmp_path / "nope.json")


def test_sidecar_descriptions(synth_h264) -> None:
    cap = read_sidecar(str(synth_h264.path))
    assert list(cap.sentences) == [s.description for s in synth_h264.truth.scenes]
    assert read_sidecar(str(synth_h264.path) + ".missing") is None


def test_caption_file_as_inputs(caption_file: Path, tmp_path: Path) -> None:
    assert caption_ids(caption_file) == ["v_demo01"]
    assert expand_llm_inputs([str(caption_file), "other.mp4"], str(caption_file), None) == [
        "v_demo01",
        "other.mp4",
    ]
    preds = _write(tmp_path, [{"video_name": "v1", "Q": "q", "A": "a", "pred": "p"}] * 2, "p.json")
    assert expand_llm_inputs([str(preds)], None, str(preds)) == ["v1_0", "v1_1"]
