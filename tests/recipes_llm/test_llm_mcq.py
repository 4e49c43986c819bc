"""VideoChat2 multiple-choice formatting (MVBench form) and option building."""

from __future__ import annotations

import random

import pytest

from vidfast.stages.generate.videochat2 import MCQInvalid, format_mcq, mcq_qa


def test_format_mcq_exact() -> None:
    assert format_mcq("What is shown?", ["a cat", "a dog", "a bird"]) == (
        "Question: What is shown?\nOptions:\n(A) a cat\n(B) a dog\n(C) a bird"
    )


def test_mcq_qa_answer_letter_matches_option() -> None:
    for seed in range(20):
        q, a = mcq_qa(
            "What moves?",
            "a red square",
            ["a blue disc", "a green bar", "a red square", "A Blue Disc", "a star"],
            4,
            random.Random(seed),
        )
        lines = q.split("\n")
        assert lines[:2] == ["Question: What moves?", "Options:"] and len(lines) == 6
        letter = a[1]
        assert a == f"({letter}) a red square"
        assert f"({letter}) a red square" in lines
        assert (
            sum("red square" in ln for ln in lines) == 1
        )  # the duplicated answer was not used as a distractor
        assert sum("disc" in ln.lower() for ln in lines) == 1  # nor a case-variant of a distractor


def test_mcq_gt_letter_is_spread_and_seeded() -> None:
    letters = {mcq_qa("q", "x", ["a", "b", "c"], 4, random.Random(s))[1][1] for s in range(40)}
    assert letters == {"A", "B", "C", "D"}
    assert mcq_qa("q", "x", ["a", "b", "c"], 4, random.Random(3)) == mcq_qa(
        "q", "x", ["a", "b", "c"], 4, random.Random(3)
    )


def test_mcq_too_few_distractors() -> None:
    with pytest.raises(MCQInvalid):
        mcq_qa("q", "x", ["x", "X ", "y"], 4, random.Random(0))
