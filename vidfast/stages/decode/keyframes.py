"""``KeyFramesStage``: the key frames of the Video-ChatGPT semi-automatic path (transient).

``frames`` targets at the centres of equal parts of the whole video, fetched in one forward pass by
the sampler, decoded so that the long side is at most ``long_side`` (the largest input of the vision
models that read them: BLIP-2, the CLIP tagger, the region detector). The frames are handed to those
stages and never stored; after a restart they are decoded again only for videos one of them must
redo. (It reads like a decode-family stage; it lives with its first consumer, the captioners.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from vidfast.errors import DecodeError
from vidfast.io import plan_uniform, probe, sample_frames
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage


def decode_short_side(width: int, height: int, long_side: int) -> int | None:
    """The short side that brings a ``width x height`` video's long side down to ``long_side``
    (None: the video is not larger, decode at its own size)."""
    long, short = max(width, height), min(width, height)
    if long <= long_side or short <= 0:
        return None
    return max(2, round(short * long_side / long))


@dataclass
class KeyFramesStage(Stage):
    """``frames`` uniformly spread key frames per video; ``text_only``: a missing file gets none."""

    name: ClassVar[str] = "key_frames"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=0.5)
    persist: ClassVar[bool] = False
    frames: int = 8
    long_side: int = 960
    # True when the run has captions: an input that is only an id (a text-only run) then gets no
    # frames and its QA comes from the caption alone, instead of failing as a missing video.
    text_only: bool = False
    decode_backend: str = "pyav"  # decode.backend (vidfast.io.gpu_decode); the same frames either way

    def process_item(self, task: VideoTask) -> dict[str, Any]:
        if self.text_only and not os.path.exists(task.video):
            self.stats.add("text_only")
            return {"images": [], "times": [], "sizes": [], "text_only": True}
        info = probe(task.video, count_frames=False)
        duration = float(info.duration_s or 0.0)
        if duration <= 0:
            raise DecodeError(
                "decode_failed", f"{task.video}: the video has no duration to place key frames in"
            )
        short_side = decode_short_side(info.display_width, info.display_height, self.long_side)
        sampled = sample_frames(
            task.video, plan_uniform([(0.0, duration)], self.frames), short_side=short_side,
            backend=self.decode_backend,
        )
        images = list(sampled.images)
        self.stats.add("frames", len(images))
        sizes = [
            [int(im.shape[1]), int(im.shape[0])] for im in images
        ]  # [w, h], as the original's image_size
        return {
            "images": images,
            "times": np.round(sampled.times_s, 4).tolist(),
            "sizes": sizes,
            "text_only": False,
        }
