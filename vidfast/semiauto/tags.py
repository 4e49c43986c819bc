"""Tag vocabularies (Tag2Text, RAM) and the Video-ChatGPT tag-vocabulary filter of region captions.

The vocabularies ship in ``vidfast/data/tags/`` (copied from recognize-anything, Apache-2.0).
Tag2Text never outputs seven of its tags (``TAG2TEXT_DELETED``: "quarter", "back" and the numbers
one to five; its ``delete_tag_index``); they are removed here, so they are neither tagged nor
checked by the filter.

The filter (seed-spec §1.4) keeps a region caption of a key frame when every vocabulary tag that
the caption mentions is among the frame's tags. Bugs of the original fixed here:

1. Multi-word tags ("tennis racquet", "traffic light") are matched as phrases (longest match
   first); the original split captions into single words, so such tags could never match.
2. A caption that mentions no vocabulary word passes; the original returned ``""`` for it, which
   is falsy, so the region was dropped.
3. Only the caption text reaches the summary prompt, never the box coordinates (the original kept
   the whole ``"caption: [box]"`` string although its rules forbid coordinates).
4. Words are compared lower-cased and without punctuation ("dog," is the tag "dog"); the original
   compared raw whitespace-split words, so a word next to a comma was never recognised.
5. The tagger's deleted tags are not in the filter vocabulary: the original checked "two" (which
   Tag2Text can never output), so every region caption saying "two men" was dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from vidfast.errors import ConfigError

TAGS_DIR = Path(__file__).resolve().parents[1] / "data" / "tags"
VOCABULARY_FILES = {"tag2text": "tag_list.txt", "ram": "ram_tag_list.txt"}
# recognize-anything ram/models/tag2text.py ``delete_tag_index`` (0-based lines of tag_list.txt).
TAG2TEXT_DELETED = (127, 2961, 3351, 3265, 3338, 3355, 3359)
_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")


def words(text: str) -> tuple[str, ...]:
    """Lower-cased words of ``text`` (letters and digits; inner hyphens and apostrophes kept)."""
    return tuple(_WORD.findall(text.lower()))


@cache
def vocabulary(name: str = "tag2text") -> tuple[str, ...]:
    """The tags of vocabulary ``name`` (``tag2text`` or ``ram``), file order, duplicates and deleted tags removed."""
    if name not in VOCABULARY_FILES:
        raise ConfigError(f"unknown tag vocabulary {name!r}; valid: {', '.join(VOCABULARY_FILES)}")
    path = TAGS_DIR / VOCABULARY_FILES[name]
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"tag vocabulary {path} is missing ({exc}); reinstall vidfast") from exc
    deleted = set(TAG2TEXT_DELETED) if name == "tag2text" else set()
    tags = [t.strip() for i, t in enumerate(lines) if i not in deleted and t.strip()]
    return tuple(dict.fromkeys(tags))


@dataclass(frozen=True)
class PhraseMatcher:
    """Finds the vocabulary tags a text mentions: longest word sequence first, left to right."""

    phrases: dict[tuple[str, ...], str]
    longest: int

    @classmethod
    def build(cls, tags: Iterable[str]) -> PhraseMatcher:
        phrases = {w: t for t in tags if (w := words(t))}
        return cls(phrases, max((len(p) for p in phrases), default=1))

    def find(self, text: str) -> list[str]:
        """The tags mentioned in ``text`` (as written in the vocabulary), in order of appearance."""
        toks, found, i = words(text), [], 0
        while i < len(toks):
            for n in range(min(self.longest, len(toks) - i), 0, -1):
                tag = self.phrases.get(toks[i : i + n])
                if tag is not None:
                    found.append(tag)
                    i += n
                    break
            else:
                i += 1
        return found


@cache
def matcher(name: str = "tag2text") -> PhraseMatcher:
    """The phrase matcher of vocabulary ``name`` (built once per process)."""
    return PhraseMatcher.build(vocabulary(name))


def region_passes(caption: str, frame_tags: Iterable[str], match: PhraseMatcher) -> bool:
    """True when every vocabulary tag ``caption`` mentions is one of ``frame_tags`` (none mentioned: True)."""
    allowed = {words(t) for t in frame_tags}
    return all(words(tag) in allowed for tag in match.find(caption))


def filter_regions(
    captions: Sequence[str], frame_tags: Iterable[str], match: PhraseMatcher
) -> tuple[list[str], list[str]]:
    """(kept, dropped) region captions of one frame under the tag-vocabulary rule."""
    tags = list(frame_tags)
    kept: list[str] = []
    dropped: list[str] = []
    for caption in captions:
        (kept if region_passes(caption, tags, match) else dropped).append(caption)
    return kept, dropped
