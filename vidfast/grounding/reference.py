"""Pure-numpy kernels of the grounding core: the fallback and the test oracle of the native ops.

Each function here has a native twin in ``csrc/similarity`` with the same contract:

- ``segment_mean(x, offsets)``: ``[F, D]`` rows -> ``[M, D]`` means of ``x[offsets[m]:offsets[m+1]]``
- ``segment_max_pool(sim, offsets)``: ``[N, N]`` -> ``[M, M]`` block maxima over contiguous spans,
  diagonal 1
- ``merge_scan(sim, threshold, union)``: the consecutive-merge pass of seed-spec §2.4 -> span offsets
- ``span_scan(...)``: the per-caption positive/negative span search of seed-spec §2.8 steps 1-9

Thresholds are cast to the matrix dtype before comparing (numpy's rule for a Python float against a
float32 array), so the native kernels can reproduce every comparison bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Status codes of ``span_scan`` (shared with csrc/similarity/similarity.h).
SPAN_OK = 0
SPAN_BAD_LENGTH = 1  # caption segment shorter than min_secs or longer than max_secs (step 1)
SPAN_UNALIGNED = 2  # no scene range lies inside the segment (step 3, incl. captions outside the scenes)
SPAN_TOO_LONG = 3  # the grown positive span is longer than max_secs (step 9)
SPAN_NO_CONTEXT = 4  # the negative span adds nothing on either side (step 8, fixed)
SPAN_STATUS_NAMES = ("ok", "bad_length", "unaligned", "grown_too_long", "no_context")

NO_SCENE = -1  # scene-index slot that the original wrote as null


def check_offsets(offsets: np.ndarray, total: int, op: str) -> np.ndarray:
    """``offsets`` as int64 ``[M+1]``, strictly increasing from 0 to ``total`` (non-empty segments)."""
    off = np.asarray(offsets, dtype=np.int64)
    if off.ndim != 1 or off.size < 1 or off[0] != 0 or off[-1] != total or np.any(np.diff(off) <= 0):
        raise ValueError(
            f"{op}: offsets must be a strictly increasing 1-D int array from 0 to {total} "
            f"(one non-empty segment per entry), got {off.tolist()[:8]}{'...' if off.size > 8 else ''}"
        )
    return off


def segment_mean(x: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Mean of each segment of rows: ``[F, D]`` -> ``[M, D]`` in ``x``'s float dtype."""
    off = check_offsets(offsets, x.shape[0], "segment_mean")
    sums = np.add.reduceat(x, off[:-1], axis=0)
    return (sums / np.diff(off)[:, None].astype(x.dtype)).astype(x.dtype, copy=False)


def segment_max_pool(sim: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``sim'[a, b] = max(sim[i, j] for i in span a, j in span b)``; the diagonal is set to 1."""
    off = check_offsets(offsets, sim.shape[0], "segment_max_pool")
    rows = np.maximum.reduceat(sim, off[:-1], axis=0)
    out = np.maximum.reduceat(rows, off[:-1], axis=1)
    np.fill_diagonal(out, 1)
    return out


def merge_scan(sim: np.ndarray, threshold: float, union: bool) -> np.ndarray:
    """Span offsets ``[M+1]`` of the greedy left-to-right merge of seed-spec §2.4.

    ``similar[k] = {j > k : sim[k, j] > threshold}`` (any distance). Scene ``i`` joins the open
    span iff ``i`` is in ``S``, where ``S = similar[i-1]`` (rule ``last``) or the union of
    ``similar[k]`` over the span's members (rule ``union``) - i.e. iff ``sim[i-1, i] > t`` or
    ``any(sim[k, i] > t for k in span)``. Only the upper triangle is read, as in the original.
    """
    n = sim.shape[0]
    thr = sim.dtype.type(threshold)
    starts = [0] if n else []
    for i in range(1, n):
        s = starts[-1]
        joins = bool(np.any(sim[s:i, i] > thr)) if union else bool(sim[i - 1, i] > thr)
        if not joins:
            starts.append(i)
    return np.asarray(starts + [n], dtype=np.int64)


@dataclass(frozen=True)
class SpanParams:
    """Parameters of the negative-span search (defaults: ``ground_data_construction.py``)."""

    boundary_shift: float = 0.25  # --scene-boundary-shift
    same_threshold: float = 0.8  # --span-same-threshold
    min_secs: float = 0.5  # --min-caption-span-secs
    max_secs: float = 10.0  # --max-caption-span-secs


@dataclass
class SpanScan:
    """Per-caption results of ``span_scan``; scene slots hold ``NO_SCENE`` where the original had null."""

    status: np.ndarray  # int64 [K], SPAN_* codes
    scenes: np.ndarray  # int64 [K, 4]: start_scene, end_scene, neg_start_scene, neg_end_scene
    secs: np.ndarray  # float64 [K, 4]: start_sec, end_sec, neg_start_sec, neg_end_sec


def empty_scan(k: int) -> SpanScan:
    """A ``SpanScan`` for ``k`` captions with every slot unset."""
    return SpanScan(np.zeros(k, np.int64), np.full((k, 4), NO_SCENE, np.int64), np.zeros((k, 4), np.float64))


def locate(starts: np.ndarray, ends: np.ndarray, cs: float, ce: float, shift: float) -> tuple[int, int]:
    """First scene starting at/after ``cs - shift`` and last ending at/before ``ce + shift``.

    Fixed vs the original binary searches: "none" is ``N`` (resp. ``-1``), not 0 (resp. the last
    index), so captions outside the scene range come out unaligned instead of covering the video.
    """
    p0 = int(np.searchsorted(starts, cs - shift, side="left"))
    p1 = int(np.searchsorted(ends, ce + shift, side="right")) - 1
    return p0, p1


def grow(sim: np.ndarray, p0: int, p1: int, thr: np.floating) -> tuple[int, int]:
    """Step 4: extend ``[p0, p1]`` over neighbours similar to the *original* end scenes (no chaining)."""
    lo, hi = p0, p1
    while lo - 1 >= 0 and sim[lo - 1, p0] > thr:
        lo -= 1
    while hi + 1 < sim.shape[0] and sim[hi + 1, p1] > thr:
        hi += 1
    return lo, hi


def neg_bounds(similar: np.ndarray, p0: int, p1: int) -> tuple[int, int, int, int]:
    """Steps 6-7 as codes: (left kind, left scene, right kind, right scene).

    Kind 0 = open to the horizon (first/last scene, or every scene on that side dissimilar),
    1 = every scene on that side similar (no room), 2 = stopped at the nearest similar scene.
    """
    left, right = similar[:p0], similar[p1 + 1 :]
    lk, ls = _side(left, np.flatnonzero(left)[-1] if left.any() else NO_SCENE)
    rk, rs = _side(right, p1 + 1 + np.flatnonzero(right)[0] if right.any() else NO_SCENE)
    return lk, ls, rk, rs


def _side(flags: np.ndarray, nearest: int) -> tuple[int, int]:
    if flags.size == 0 or not flags.any():
        return 0, NO_SCENE
    if flags.all():
        return 1, NO_SCENE
    return 2, int(nearest)


def span_scan(
    sim: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    cap_start: np.ndarray,
    cap_end: np.ndarray,
    params: SpanParams,
    horizon_end: float,
) -> SpanScan:
    """Seed-spec §2.8 steps 1-9 for a batch of caption segments over one video's merged scenes.

    ``starts``/``ends`` are the merged scenes (sorted), ``sim`` their ``[N, N]`` matrix,
    ``horizon_end`` the time an unobstructed negative span may reach on the right (the video
    duration, or the end of the last kept scene when the scene list was capped).
    """
    out = empty_scan(len(cap_start))
    thr = sim.dtype.type(params.same_threshold)
    for k, (cs, ce) in enumerate(zip(np.asarray(cap_start, float), np.asarray(cap_end, float))):
        status, scenes, secs = _scan_one(sim, starts, ends, float(cs), float(ce), params, thr, horizon_end)
        out.status[k] = status
        if scenes is not None:
            out.scenes[k], out.secs[k] = scenes, secs
    return out


def _scan_one(
    sim: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    cs: float,
    ce: float,
    params: SpanParams,
    thr: np.floating,
    horizon_end: float,
) -> tuple[int, tuple[int, ...] | None, tuple[float, ...] | None]:
    if ce - cs < params.min_secs or ce - cs > params.max_secs:
        return SPAN_BAD_LENGTH, None, None
    p0, p1 = locate(starts, ends, cs, ce, params.boundary_shift)
    if p1 < p0:
        return SPAN_UNALIGNED, None, None
    lo, hi = grow(sim, p0, p1, thr)
    cs = float(starts[lo]) if lo < p0 else cs
    ce = float(ends[hi]) if hi > p1 else ce
    similar = ~(sim[lo : hi + 1].max(axis=0) < thr)  # step 5: NaN counts as similar, as in the original
    lk, ls, rk, rs = neg_bounds(similar, lo, hi)
    neg_s = (0.0, cs, float(ends[ls]) if ls >= 0 else 0.0)[lk]
    neg_e = (horizon_end, ce, float(starts[rs]) if rs >= 0 else 0.0)[rk]
    # Fix: a similar scene overlapping the caption's own slack must not cut into the positive span.
    neg_s, neg_e = min(neg_s, cs), max(neg_e, ce)
    scenes, secs = (lo, hi, ls, rs), (cs, ce, neg_s, neg_e)
    if ce - cs > params.max_secs:
        return SPAN_TOO_LONG, scenes, secs
    return (SPAN_NO_CONTEXT if (neg_s >= cs and neg_e <= ce) else SPAN_OK), scenes, secs
