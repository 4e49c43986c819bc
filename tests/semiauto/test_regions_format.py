"""GRiT's region string and the ``--pred_dir`` 4-tuple: written as the original, read back losslessly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidfast.errors import InputError
from vidfast.semiauto import FramePrediction, Region, grit_string, parse_grit, read_predictions


def test_grit_string_is_the_original_format() -> None:
    regions = [Region("a man in a red shirt", (10, 20, 110, 220)), Region("a dog", (0, 5, 40, 45))]
    text = grit_string(regions)
    assert text == "a man in a red shirt: [10, 20, 110, 220]; a dog: [0, 5, 40, 45]; "
    # what GRiT's dense_pred_to_caption writes for the same predictions
    grit = "".join(f"{r.caption}: {list(r.box)!s}; " for r in regions)
    assert text == grit
    # the original reader, split(';')[:-1], sees every region (the trailing ';' is there)
    assert [p.split(":")[0].strip() for p in text.split(";")[:-1]] == ["a man in a red shirt", "a dog"]
    assert grit_string([]) == ""


def test_parse_round_trip_and_the_last_region_without_a_trailing_semicolon() -> None:
    regions = [Region("a man", (1, 2, 3, 4)), Region("a cup: white", (5, 6, 7, 8))]
    assert parse_grit(grit_string(regions)) == regions  # the box is after the last ':'
    no_trailer = "a man: [1, 2, 3, 4]; a dog: [5, 6, 7, 8]"
    assert [r.caption for r in parse_grit(no_trailer)] == ["a man", "a dog"]  # split(';')[:-1] lost "a dog"
    assert parse_grit("a cat: 1.6, 2, 3, 4;") == [Region("a cat", (2, 2, 3, 4))]
    assert parse_grit("no box here; ") == [Region("no box here")]


def test_captions_cannot_break_the_string() -> None:
    text = grit_string([Region("a sign; it says\nstop", (1, 1, 2, 2))])
    assert text == "a sign, it says stop: [1, 1, 2, 2]; " and len(parse_grit(text)) == 1


def test_prediction_tuple_and_pred_dir_file(tmp_path: Path) -> None:
    frame = FramePrediction(
        "a man rides a bike", [Region("a bike", (3, 4, 50, 60))], ["man", "bike"], (64, 36)
    )
    item = frame.to_original()
    assert item == ["a man rides a bike", "a bike: [3, 4, 50, 60]; ", ["man | bike"], [64, 36]]
    path = tmp_path / "v_1.json"
    path.write_text(json.dumps([item, ["a road", "", ["road"], [64, 36]]]))
    back = read_predictions(path)
    assert back[0] == frame and back[1].regions == [] and back[1].tags == ["road"]
    path.write_text(json.dumps([["only a caption"]]))
    with pytest.raises(InputError, match=r"v_1.json\[0\]: expected \[caption, dense_string"):
        read_predictions(path)
    path.write_text(json.dumps({"not": "a list"}))
    with pytest.raises(InputError, match="must hold a JSON list"):
        read_predictions(path)
