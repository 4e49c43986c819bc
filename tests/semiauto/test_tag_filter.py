"""The tag-vocabulary filter of region captions (seed-spec §1.4), each fix of the original checked
against a re-statement of the original rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidfast.errors import ConfigError
from vidfast.semiauto import (
    TAG2TEXT_DELETED,
    FramePrediction,
    PhraseMatcher,
    Region,
    filter_regions,
    matcher,
    region_passes,
    summary_frames,
    vocabulary,
)
from vidfast.semiauto.tags import TAGS_DIR, VOCABULARY_FILES, words


def original_keeps(region: str, frame_tags: str, vocab: set[str]) -> bool:
    """Video-ChatGPT's rule as published: the text before ':' split on whitespace, the words found in
    the vocabulary joined; an empty join is falsy (dropped), else every word must be a frame tag."""
    found = [w for w in region.split(":")[0].split() if w in vocab]
    joined = " ".join(found)
    return bool(joined) and all(w in frame_tags.split(" | ") for w in found)


@pytest.fixture(scope="module")
def tag2text() -> PhraseMatcher:
    return matcher("tag2text")


def test_vocabularies_ship_with_the_package_and_drop_the_deleted_tags() -> None:
    raw = (TAGS_DIR / "tag_list.txt").read_text(encoding="utf-8").splitlines()
    assert len(raw) == 3429 and (TAGS_DIR / "LICENSE").is_file() and (TAGS_DIR / "NOTICE.txt").is_file()
    deleted = {raw[i] for i in TAG2TEXT_DELETED}
    assert deleted == {"quarter", "back", "one", "two", "three", "four", "five"}
    tags = vocabulary("tag2text")
    assert not deleted & set(tags) and len(tags) == len(set(tags)) == len(set(raw) - deleted)
    ram = vocabulary("ram")
    assert len(ram) == len((TAGS_DIR / VOCABULARY_FILES["ram"]).read_text().splitlines())  # nothing deleted
    with pytest.raises(ConfigError, match="valid: tag2text, ram"):
        vocabulary("bogus")


def test_multi_word_tags_are_matched_as_phrases(tag2text: PhraseMatcher) -> None:
    caption = "a man holding a tennis racquet"
    assert tag2text.find(caption) == ["man", "tennis racquet"]  # longest match, not "tennis" + "racquet"
    assert region_passes(caption, ["man", "tennis racquet"], tag2text)
    assert not region_passes(caption, ["man", "tennis"], tag2text)  # the phrase itself must be tagged
    # the original compared single words, so a frame tagged "tennis racquet" never let this region pass
    assert not original_keeps(caption + ": [1, 2, 3, 4]", "man | tennis racquet", set(vocabulary()))


def test_a_region_without_vocabulary_words_passes(tag2text: PhraseMatcher) -> None:
    caption = "xyzzy plugh"
    assert tag2text.find(caption) == [] and region_passes(caption, [], tag2text)
    assert not original_keeps(caption + ": [1, 2, 3, 4]", "man", set(vocabulary()))  # the original dropped it


def test_a_region_with_an_untagged_word_is_dropped(tag2text: PhraseMatcher) -> None:
    kept, dropped = filter_regions(
        ["a red car", "a dog on the street", "a man"], ["car", "red", "man"], tag2text
    )
    assert kept == ["a red car", "a man"] and dropped == ["a dog on the street"]
    assert original_keeps(
        "a red car: [0, 0, 5, 5]", "car | red | man", set(vocabulary())
    )  # same as before here


def test_punctuation_and_case_do_not_hide_words(tag2text: PhraseMatcher) -> None:
    assert words("A Dog, running.") == ("a", "dog", "running")
    assert tag2text.find("A Dog, running.") == ["dog", "running"]
    assert not region_passes("a dog, running", ["running"], tag2text)  # "dog," is the tag "dog"
    assert original_keeps(
        "a dog, running: [0, 0, 1, 1]", "running", set(vocabulary())
    )  # the original missed it


def test_words_the_tagger_cannot_output_are_not_checked(tag2text: PhraseMatcher) -> None:
    assert region_passes("two dogs near a man", ["man"], tag2text)  # "two" is a deleted tag, "dogs" no tag
    assert not original_keeps("two dogs near a man: [1, 2, 3, 4]", "man", {*vocabulary(), "two"})


def test_only_captions_reach_the_summary_prompt(tag2text: PhraseMatcher) -> None:
    frames = [
        FramePrediction(
            "a man rides a bike",
            [Region("a man", (1, 2, 30, 40)), Region("a dog", (5, 6, 7, 8))],
            ["man", "bike"],
            (64, 36),
            0.5,
        ),
        FramePrediction("", [], [], (64, 36), 1.5),  # nothing to say: left out
        FramePrediction("a street at night", [Region("a street lamp", (9, 9, 20, 20))], ["street lamp"]),
    ]
    text, records = summary_frames(frames, tag2text)
    assert text == (
        "Moment 1:\nFrame caption: a man rides a bike\nRegions: a man\n\n"
        "Moment 2:\nFrame caption: a street at night\nRegions: a street lamp"
    )
    assert "[" not in text and "30" not in text  # no coordinates
    assert [r["regions"] for r in records] == [["a man"], [], ["a street lamp"]]
    assert records[0]["regions_dropped"] == ["a dog"] and records[0]["time_s"] == 0.5


def test_phrase_matcher_prefers_the_longest_phrase() -> None:
    m = PhraseMatcher.build(["traffic", "traffic light", "light"])
    assert m.find("a traffic light and a light") == ["traffic light", "light"]
    assert PhraseMatcher.build([]).find("anything") == []


def test_tags_dir_is_package_data() -> None:
    assert TAGS_DIR == Path(__import__("vidfast").__file__).parent / "data" / "tags"
