"""Region captions and their GRiT string form, as Video-ChatGPT's ``--pred_dir`` files hold them.

GRiT's ``dense_pred_to_caption`` writes every region as ``"<caption>: [x1, y1, x2, y2]; "``
(integer pixel corners, the list's ``str``), so the string ends with ``"; "``. ``grit_string``
writes exactly that. ``parse_grit`` reads it back; unlike the original's ``split(';')[:-1]`` it
does not lose the last region of a string without the trailing ``;``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Box = tuple[int, int, int, int]
_BOX = re.compile(
    r"\s*\[?\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]?\s*"
)


@dataclass(frozen=True)
class Region:
    """One region of a frame: its caption, box (x1, y1, x2, y2 in frame pixels) and detector score."""

    caption: str
    box: Box | None = None
    score: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {"caption": self.caption, "box": list(self.box) if self.box else None, "score": self.score}

    @classmethod
    def from_dict(cls, doc: dict[str, object]) -> Region:
        box = doc.get("box")
        return cls(str(doc["caption"]), tuple(int(v) for v in box) if box else None, doc.get("score"))  # type: ignore[arg-type]


def clean_caption(text: str) -> str:
    """A caption that cannot break the string form: one line, no ``;``."""
    return " ".join(text.replace(";", ",").split())


def grit_string(regions: Iterable[Region]) -> str:
    """GRiT's ``"caption: [x1, y1, x2, y2]; "`` string of ``regions`` (empty string for none)."""
    parts = []
    for r in regions:
        box = f"[{', '.join(str(int(v)) for v in r.box)}]" if r.box else "[]"
        parts.append(f"{clean_caption(r.caption)}: {box}; ")
    return "".join(parts)


def parse_grit(text: str) -> list[Region]:
    """The regions of a GRiT string; a piece without a parsable box keeps its text and ``box=None``."""
    regions = []
    for piece in text.split(";"):
        piece = piece.strip()
        if not piece:
            continue
        caption, sep, rest = piece.rpartition(":")
        m = _BOX.fullmatch(rest) if sep else None
        if m:
            box = tuple(round(float(v)) for v in m.groups())
            regions.append(Region(caption.strip(), box))  # type: ignore[arg-type]
        elif sep and rest.strip() in ("", "[]"):
            regions.append(Region(caption.strip()))
        else:
            regions.append(Region(piece))
    return regions


def captions_of(regions: Sequence[Region]) -> list[str]:
    """The caption texts of ``regions`` (what the tag filter tests and the summary receives)."""
    return [r.caption for r in regions]
