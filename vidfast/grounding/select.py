"""Keep captions whose CLIP score is high enough and group them per segment (seed-spec §2.7).

Input rows are the CLIP-filter rows ``{"video_fname","start_sec","end_sec","caption","clip_sim"}``;
output rows ``{"video_fname","start_sec","end_sec","captions":[...]}``. Rules:

- ``"median"``: the original's rule - the median of ``clip_sim`` over *all* rows given (numpy's
  median), rows with ``clip_sim < median`` dropped. Pass the whole run, not shards: the authors'
  per-shard runs made the threshold depend on the sharding.
- ``"video_median"``: the same rule with one median per video.
- a float: rows with ``clip_sim >= threshold`` kept.

Consecutive kept rows of the same ``(video_fname, start_sec, end_sec)`` form one output row (rows
dropped in between do not split a group, as in the original). Fixed vs the original: the caption
list keeps first-seen order (the original went through a ``set``, so its order was not
reproducible).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from vidfast.errors import ConfigError

SELECTION_RULES = ("median", "video_median")


def keep_mask(
    scores: Sequence[float], rule: str | float = "median", videos: Sequence[str] | None = None
) -> np.ndarray:
    """Boolean mask of the rows kept by ``rule`` (see the module docstring)."""
    s = np.asarray(scores, dtype=np.float64)
    if not isinstance(rule, str):
        return s >= float(rule)
    if rule not in SELECTION_RULES:
        raise ConfigError(f"caption selection rule must be a float or one of {SELECTION_RULES}, got {rule!r}")
    if s.size == 0:
        return np.zeros(0, dtype=bool)
    if rule == "median":
        return ~(s < np.median(s))
    if videos is None or len(videos) != s.size:
        raise ValueError("keep_mask: rule 'video_median' needs one video name per score")
    keys, inverse = np.unique(np.asarray(videos, dtype=object).astype(str), return_inverse=True)
    medians = np.array([np.median(s[inverse == g]) for g in range(keys.size)])
    return ~(s < medians[inverse])


def group_captions(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Group consecutive rows of the same segment; captions unique, in first-seen order."""
    out: list[dict[str, Any]] = []
    prev: tuple[Any, Any, Any] | None = None
    for row in rows:
        key = (row["video_fname"], row["start_sec"], row["end_sec"])
        if key != prev:
            out.append({"video_fname": key[0], "start_sec": key[1], "end_sec": key[2], "captions": {}})
            prev = key
        out[-1]["captions"][row["caption"]] = None
    for group in out:
        group["captions"] = list(group["captions"])
    return out


def select_captions(rows: Sequence[Mapping[str, Any]], rule: str | float = "median") -> list[dict[str, Any]]:
    """``keep_mask`` over the rows' ``clip_sim`` then ``group_captions`` of the survivors."""
    mask = keep_mask([r["clip_sim"] for r in rows], rule, [r["video_fname"] for r in rows])
    return group_captions(r for r, keep in zip(rows, mask) if keep)
