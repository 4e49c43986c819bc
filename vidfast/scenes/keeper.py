"""Keep the few frames later stages will need while shot detection decodes the video (one decode, not three).

After detection the grounding recipe needs ``k`` frames inside every scene (CLIP) and the middle frame
of every merged scene (BLIP-2), at model resolution. Which frames those are depends on the cuts — and
for merged scenes on CLIP itself — known only after the pass; fetching them afterwards decodes the
video again (every frame between keyframes). The keeper serves them from the detection decode:

- it confirms ContentDetector cuts online, frame by frame, with the same FlashFilter the batch decision
  uses (a cut is final at most ``min_scene_len`` after it);
- it holds the most recent decoded frames (references to FFmpeg's buffers, no copies) in a window
  bounded in bytes;
- when a scene closes, a planner names the times the later stages will ask for (a scene's own frames;
  the middle of each merged scene that could end with it); the frames presenting at those times are
  converted while still in the window, and the window moves on.

Selection is the sampler's rule (vidfast.io.sampling): a target time gets the frame whose presentation
interval contains it, so the images equal what a sampler pass returns (tested). The final plan is
always made from the authoritative scene list after the pass; whatever the keeper does not hold (a scene
longer than the window, a merge of more scenes than planned for, a detector without online cuts) is
fetched by the sampler in one partial pass (:meth:`FrameCache.take`).
"""

from __future__ import annotations

import collections
import copy
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import av
import numpy as np

from vidfast.io.decode import FrameConverter, make_output_spec
from vidfast.io.sampling import TIME_EPS_S, SamplePlan, sample_frames
from vidfast.scenes.base import FrameClock, MinLength
from vidfast.scenes.content import ContentDetector, FlashFilter, content_values
from vidfast.scenes.frames import FrameBatch, StreamFacts

# A planner gets the closed scenes so far ([start_s, end_s] each, decode order) and the index of the one
# that just closed; it returns (spec name, target time) pairs. ``final`` marks the call made after the
# pass with the authoritative scene list (the planner then sees every scene once, in order).
Planner = Callable[[Sequence[Sequence[float]], int], list[tuple[str, float]]]


class _GrowingClock:
    """The FrameClock methods the FlashFilter uses, over PTS that arrive batch by batch."""

    def __init__(self, time_base, rate) -> None:
        self.time_base, self.rate = time_base, rate
        self.buf = np.empty(4096, np.int64)
        self.n = 0

    def extend(self, pts: np.ndarray) -> None:
        while self.n + len(pts) > len(self.buf):
            self.buf = np.concatenate([self.buf, np.empty_like(self.buf)])
        self.buf[self.n : self.n + len(pts)] = pts
        self.n += len(pts)

    @property
    def pts(self) -> np.ndarray:
        return self.buf[: self.n]

    def span(self, i: int, j: int) -> int:
        return max(0, int(self.buf[j]) - int(self.buf[i]))

    seconds = FrameClock.seconds
    frame_num = FrameClock.frame_num


@dataclass
class FrameCache:
    """Frames kept during a detection pass: converted images by (spec, frame index), every frame's time."""

    times: np.ndarray  # seconds from the stream start, one per decoded frame (the sampler's clock)
    sides: dict[str, int]  # spec name -> short side the images were converted at
    images: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    hits: int = 0
    fetched: int = 0

    def frame_for(self, targets: np.ndarray) -> np.ndarray:
        """The decoded frame presenting at each target time (the sampler's rule)."""
        idx = np.searchsorted(self.times, np.asarray(targets, np.float64) + TIME_EPS_S, side="right") - 1
        return np.clip(idx, 0, max(0, len(self.times) - 1))

    def take(self, video: str | os.PathLike[str], spec: str, plan: SamplePlan) -> dict[str, object]:
        """{"images", "times", "range_ids"} for ``plan`` — kept frames, the rest fetched by the sampler."""
        side = self.sides[spec]
        idx = self.frame_for(plan.times) if len(self.times) else np.zeros(len(plan), np.int64)
        images: list[np.ndarray | None] = [self.images.get((spec, int(k))) for k in idx]
        times = self.times[idx] if len(self.times) else np.zeros(len(plan))
        missing = [i for i, im in enumerate(images) if im is None]
        if missing:
            got = sample_frames(video, SamplePlan.from_times(plan.times[missing]), short_side=side)
            fetched = list(got.images) if isinstance(got.images, np.ndarray) else got.images
            for i, im, t in zip(missing, fetched, got.times_s):
                images[i] = im
                times[i] = t
        self.hits += len(plan) - len(missing)
        self.fetched += len(missing)
        stacked: np.ndarray | list[np.ndarray]
        if images and all(im.shape == images[0].shape for im in images):  # type: ignore[union-attr]
            stacked = np.stack(images)  # type: ignore[arg-type]
        else:
            stacked = images  # type: ignore[assignment]
        return {"images": stacked, "times": np.asarray(times, np.float64), "range_ids": plan.range_ids}

    def drop(self, spec: str) -> None:
        """Free the images kept for ``spec`` (once their stage has them)."""
        for key in [k for k in self.images if k[0] == spec]:
            del self.images[key]


class FrameKeeper:
    """A detection-pass observer (vidfast.scenes.detect.FrameObserver) that keeps planned frames.

    ``sides`` maps spec names to the short side their images are converted at (as
    ``sample_frames(short_side=...)``); ``window_bytes`` bounds the decoded frames held, ``cache_bytes``
    the converted images kept (beyond it targets are left to the sampler).
    """

    def __init__(self, detector: object, planner: Planner, sides: dict[str, int],
                 window_bytes: int = 256 << 20, cache_bytes: int = 1 << 30) -> None:
        self.detector = detector
        self.planner = planner
        self.window_bytes = max(0, int(window_bytes))
        self.cache_bytes = max(0, int(cache_bytes))
        self.kept_bytes = 0
        self.skipped_full = 0  # targets not kept because the cache was full (fetched later)
        self.cache = FrameCache(np.zeros(0), dict(sides))
        self.window: collections.deque[tuple[av.VideoFrame, int]] = collections.deque()
        self.window_start = 0  # decode index of window[0]
        self.held = 0
        self.peak_held = 0
        self.frame_bytes = 0  # bytes held per decoded frame (FFmpeg's padded planes)
        self.times = np.empty(4096, np.float64)
        self.n = 0
        self.scenes: list[list[float]] = []
        self.scene_start = 0
        self.online = False
        self.usable = True
        self.converters: dict[str, FrameConverter] = {}
        self.facts: StreamFacts | None = None
        self.parts: list[FrameKeeper] = []  # one keeper per stretch when the video was decoded in stretches
        self.offsets: list[int] = []
        self.is_part = False  # this keeper watches one stretch: targets before its first frame are another's

    # -- stretches (vidfast.scenes.segments) ------------------------------------------------------
    def split(self, n: int) -> FrameKeeper:
        """A keeper for one of ``n`` stretches decoded at once: the window is per decoder (a smaller one
        loses the frames of long scenes before they close), the cache budget is shared."""
        # a planner has state (the scenes planned so far): each stretch's thread gets its own copy
        part = FrameKeeper(self.detector, copy.deepcopy(self.planner), dict(self.cache.sides), self.window_bytes,
                           self.cache_bytes // n)
        part.is_part = True
        return part

    def join(self, parts: list[FrameKeeper], offsets: list[int]) -> None:
        """Take the stretches' keepers (``offsets``: the decode index of each stretch's first frame)."""
        self.parts, self.offsets = parts, offsets
        self.usable = self.usable and all(p.usable for p in parts)
        self.peak_held = sum(p.peak_held for p in parts)

    # -- FrameObserver -------------------------------------------------------------------------
    def start(self, facts: StreamFacts) -> None:
        self.facts = facts
        self.usable = facts.start_time is not None  # frame times must equal the sampler's
        self.online = isinstance(self.detector, ContentDetector)
        if self.online:
            det = self.detector
            self.clock = _GrowingClock(facts.time_base, facts.rate)
            self.flash = FlashFilter(det.filter_mode, MinLength.parse(det.min_scene_len), self.clock)  # type: ignore[arg-type]
            self.last_cut = 0

    def batch(self, frames: FrameBatch, components: np.ndarray) -> None:
        if not self.usable or frames.frames is None:
            return
        assert self.facts is not None
        first = self.n
        self._add_times(frames.pts.astype(np.float64) * float(self.facts.time_base))
        for frame in frames.frames:
            if frame.pts is None:  # the sampler's clock would differ: keep nothing, fetch later
                self._give_up()
                return
            size = self.frame_bytes = sum(p.buffer_size for p in frame.planes)
            self.window.append((frame, size))
            self.held += size
        self.peak_held = max(self.peak_held, self.held)
        if self.online:
            self._feed_cuts(first, frames.pts, components)
        while self.held > self.window_bytes and len(self.window) > 1:
            self._evict()

    # -- after the pass --------------------------------------------------------------------------
    def finish(self, scenes: Sequence[Sequence[float]]) -> FrameCache:
        """Plan again over the authoritative scenes (taking what the window still holds); the cache."""
        if self.parts:
            return self._finish_parts(scenes)
        if self.usable:
            for b in range(len(scenes)):
                self._keep(self.planner(scenes, b))
        self.window.clear()
        self.held = 0
        self.cache.times = self.times[: self.n].copy() if self.usable else np.zeros(0)
        if not self.usable:
            self.cache.images.clear()
        return self.cache

    def _finish_parts(self, scenes: Sequence[Sequence[float]]) -> FrameCache:
        """Each stretch's keeper finishes on the authoritative scenes; their images under whole-video indices."""
        times = []
        for part, offset in zip(self.parts, self.offsets):
            cache = part.finish(scenes)  # also drops the part's window
            times.append(part.times[: part.n])
            if self.usable:
                for (spec, k), image in cache.images.items():
                    self.cache.images[(spec, k + offset)] = image
            self.kept_bytes += part.kept_bytes
            self.skipped_full += part.skipped_full
        self.parts = []
        self.cache.times = np.concatenate(times) if self.usable and times else np.zeros(0)
        if not self.usable:
            self.cache.images.clear()
        return self.cache

    # -- internals -----------------------------------------------------------------------------
    def _give_up(self) -> None:
        self.usable = False
        self.window.clear()
        self.held = 0
        self.cache.images.clear()

    def _add_times(self, t: np.ndarray) -> None:
        while self.n + len(t) > len(self.times):
            self.times = np.concatenate([self.times, np.empty_like(self.times)])
        self.times[self.n : self.n + len(t)] = t
        self.n += len(t)

    def _evict(self) -> None:
        _, size = self.window.popleft()
        self.held -= size
        self.window_start += 1

    def _feed_cuts(self, first: int, pts: np.ndarray, components: np.ndarray) -> None:
        det = self.detector
        assert isinstance(det, ContentDetector)
        self.clock.extend(pts)
        # content_values zeroes row 0 (the video's first frame); a leading dummy row keeps later batches whole
        vals = content_values(components, det.weights) if first == 0 else \
            content_values(np.vstack([np.zeros((1, components.shape[1])), components]), det.weights)[1:]
        above = vals >= det.threshold
        for i in range(len(vals)):
            cut = self.flash.step(first + i, bool(above[i]))
            if cut is not None and cut > self.last_cut:
                self._close(self.last_cut, cut)
                self.last_cut = cut

    def _close(self, start: int, end: int) -> None:
        """Scene [start, end) (decode indices) is final: plan it and keep its frames from the window."""
        seconds = self.clock.seconds(self.clock.pts[[start, end]])
        self.scenes.append([float(seconds[0]), float(seconds[1])])
        self._keep(self.planner(self.scenes, len(self.scenes) - 1))

    def _keep(self, targets: list[tuple[str, float]]) -> None:
        if not targets:
            return
        times = self.times[: self.n]
        for spec, t in targets:
            if self.is_part and self.n and t + TIME_EPS_S < times[0]:
                continue
            k = int(np.searchsorted(times, t + TIME_EPS_S, side="right")) - 1
            k = min(max(k, 0), self.n - 1)
            key = (spec, k)
            if key in self.cache.images or not (self.window_start <= k < self.window_start + len(self.window)):
                continue
            if self.kept_bytes >= self.cache_bytes:
                self.skipped_full += 1
                continue
            frame = self.window[k - self.window_start][0]
            image = self._converter(spec, frame)(frame)
            self.cache.images[key] = image
            self.kept_bytes += image.nbytes

    def _converter(self, spec: str, frame: av.VideoFrame) -> FrameConverter:
        if spec not in self.converters:
            assert self.facts is not None
            self.converters[spec] = FrameConverter(
                make_output_spec(frame, self.facts.sar, None, self.cache.sides[spec], None, "rgb24"))
        return self.converters[spec]
