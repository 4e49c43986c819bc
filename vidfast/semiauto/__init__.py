"""The Video-ChatGPT semi-automatic path's text logic (no models, no I/O beyond the bundled files).

- ``tags`` — Tag2Text / RAM vocabularies (``vocabulary``), the phrase matcher and the tag-vocabulary
  filter of region captions, with the original's bugs fixed (listed in its docstring) (§1.4)
- ``regions`` — ``Region`` and GRiT's ``"caption: [x1, y1, x2, y2]; "`` string (``grit_string`` /
  ``parse_grit``)
- ``frames`` — ``FramePrediction`` (one key frame: caption, regions, tags, size), the ``--pred_dir``
  4-tuple (``to_original`` / ``read_predictions``) and the dense-summary prompt text
  (``summary_frames``)
"""

from vidfast.semiauto.frames import FramePrediction, read_predictions, summary_frames
from vidfast.semiauto.regions import Region, grit_string, parse_grit
from vidfast.semiauto.tags import (
    TAG2TEXT_DELETED,
    PhraseMatcher,
    filter_regions,
    matcher,
    region_passes,
    vocabulary,
)

__all__ = [
    "TAG2TEXT_DELETED",
    "FramePrediction",
    "PhraseMatcher",
    "Region",
    "filter_regions",
    "grit_string",
    "matcher",
    "parse_grit",
    "read_predictions",
    "region_passes",
    "summary_frames",
    "vocabulary",
]
