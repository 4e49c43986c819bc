"""HawkEye grounding instruction records built from grounding rows (seed-spec §2.9).

Layout (VideoChat2-IT): a JSON list of ``{"video", "QA": [{"start_sec", "end_sec", "neg_start_sec",
"neg_end_sec", "i", "q", "a"}]}``, one file per record type: ``grounding`` (q: question about the
caption, a: span template), ``caption`` (q: span question, a: caption), ``choice`` (q: question +
four shuffled lettered position options, a: ``[keyword, "(X) option"]`` pairs) and
``choice_caption`` (q: ``[keyword, option]`` pairs, a: caption). Position options are the exact
sentences the HawkEye loaders compare literally.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

RECORD_TYPES = ("grounding", "caption", "choice", "choice_caption")
POSITION_OPTIONS = {
    "middle": "In the middle of the video.",
    "end": "At the end of the video.",
    "throughout": "Throughout the entire video.",
    "beginning": "At the beginning of the video.",
}
_TEMPLATES = Path(__file__).with_name("hawkeye_templates.yaml")


def load_templates(path: Path = _TEMPLATES) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def normalize_caption(caption: str) -> str:
    """Capitalise the first letter and strip one trailing period (as the HawkEye preparation does)."""
    caption = caption.strip()
    caption = caption[:1].upper() + caption[1:]
    return caption[:-1] if caption.endswith(".") else caption


def _choice_question(question: str, rng: random.Random) -> tuple[str, list[list[str]]]:
    keys = list(POSITION_OPTIONS)
    rng.shuffle(keys)
    letters = "ABCD"
    lines = "".join(f"\n({letters[i]}) {POSITION_OPTIONS[k]}" for i, k in enumerate(keys))
    answers = [[k, f"({letters[i]}) {POSITION_OPTIONS[k]}"] for i, k in enumerate(keys)]
    return f"Question: {question}\nOptions:{lines}", answers


def qa_item(row: dict[str, Any], kind: str, templates: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One QA entry of record type ``kind`` for a grounding row."""
    caption = normalize_caption(row["caption"])
    question = rng.choice(templates["questions"]) % caption
    item = {k: row[k] for k in ("start_sec", "end_sec", "neg_start_sec", "neg_end_sec")}
    item["i"] = rng.choice(templates["instructions"])
    if kind == "grounding":
        item["q"], item["a"] = question, templates["span"]
    elif kind == "caption":
        item["q"], item["a"] = templates["caption_question"], caption
    elif kind == "choice":
        item["q"], item["a"] = _choice_question(question, rng)
    elif kind == "choice_caption":
        item["q"], item["a"] = [[k, v] for k, v in POSITION_OPTIONS.items()], caption
    else:
        raise ValueError(f"unknown HawkEye record type {kind!r}; valid: {', '.join(RECORD_TYPES)}")
    return item


def build_records(rows: Iterable[dict[str, Any]], kind: str, seed: int = 0) -> list[dict[str, Any]]:
    """Records of one type, grouped by video in first-seen order; deterministic for a seed."""
    templates, rng = load_templates(), random.Random(f"{seed}:{kind}")
    by_video: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_video.setdefault(row["video"], []).append(qa_item(row, kind, templates, rng))
    return [{"video": video, "QA": qa} for video, qa in by_video.items()]
