"""Shards: n independent processes (one per GPU, or per node) running disjoint parts of one run.

``runtime.shard=i/n`` makes a process take every n-th video, starting at the i-th, of the inputs sorted
by video id (derived from the absolute path): the shards differ in size by at most one video, and the
choice does not depend on the order the inputs are listed in. When the input set changes, videos may
move to another shard, which costs nothing: the shards share one ``state/`` directory, so a stored
result is reused whichever shard finds it. Every shard writes its stage results there and its own
``manifest.<i>-of-<n>.jsonl`` and ``report.<i>-of-<n>.json``; ``vidfast merge RUN_DIR`` then checks that
all n are complete and were run with one configuration, and writes the run's manifest, report and
recipe outputs exactly as an unsharded run would have.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vidfast.errors import ConfigError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_FILE = re.compile(r"^manifest\.(\d+)-of-(\d+)\.jsonl$")


@dataclass(frozen=True, order=True)
class Shard:
    index: int
    count: int

    @property
    def suffix(self) -> str:
        """``<i>-of-<n>``: the part of the shard's file names (manifest, report, lock) that names it."""
        return f"{self.index}-of-{self.count}"

    def manifest_name(self) -> str:
        return f"manifest.{self.suffix}.jsonl"

    def report_name(self) -> str:
        return f"report.{self.suffix}.json"

    def select(self, video_ids: Sequence[str]) -> list[int]:
        """The positions (in input order) of this shard's videos among ``video_ids``."""
        ranked = sorted(range(len(video_ids)), key=lambda i: (video_ids[i], i))
        return sorted(pos for rank, pos in enumerate(ranked) if rank % self.count == self.index)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(value: str | None) -> Shard | None:
    """``"i/n"`` -> Shard(i, n); None -> None; anything else is a ConfigError naming the fix."""
    if value is None or str(value).strip() == "":
        return None
    m = _SHARD.match(str(value))
    if not m or int(m.group(2)) < 1 or int(m.group(1)) >= int(m.group(2)):
        raise ConfigError(f"runtime.shard must be i/n with 0 <= i < n (e.g. runtime.shard=0/4 for the first of "
                          f"4 processes), got {value!r}")
    return Shard(int(m.group(1)), int(m.group(2)))


def find_shards(root: Path) -> tuple[int, list[Shard]]:
    """The shard count and the shards whose manifests are in ``root``; a ConfigError when counts differ."""
    found = [(int(m.group(1)), int(m.group(2))) for p in root.glob("manifest.*-of-*.jsonl") if (m := _FILE.match(p.name))]
    counts = sorted({n for _, n in found})
    if not counts:
        return 0, []
    if len(counts) > 1:
        raise ConfigError(f"{root} holds shard manifests of runs split {' and '.join(map(str, counts))} ways "
                          f"(manifest.<i>-of-<n>.jsonl); remove the stale ones and merge again.")
    return counts[0], sorted(Shard(i, n) for i, n in found)
