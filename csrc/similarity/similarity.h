// Scene-similarity reductions and scans of the grounding recipe (InternVid-G, seed-spec §2.3-§2.8).
// The numpy oracle is vidfast/grounding/reference.py; every entry here reproduces it exactly
// (comparisons bit for bit, reductions within float rounding).
//
//   segment_mean      x [F, D], offsets int64 [M+1]          -> [M, D]  row means per segment
//   segment_max_pool  sim [N, N], offsets int64 [M+1]        -> [M, M]  block maxima, diagonal 1
//   merge_scan        sim [N, N], threshold, union           -> int64 [M+1] span offsets (§2.4)
//   span_scan         sim [N, N], scene starts/ends [N], caption starts/ends [K], params
//                     -> status int64 [K], scenes int64 [K, 4], secs float64 [K, 4]   (§2.8 1-9)
//
// Offsets are strictly increasing from 0 to the row count (checked in Python and here). Thresholds
// are cast to the matrix element type before comparing (numpy's rule for float32 vs a Python float).
#pragma once

#include <cstdint>

#include "common/checks.h"

namespace vidfast {

// Status codes of span_scan; mirrored by SPAN_* in vidfast/grounding/reference.py.
enum SpanStatus : int64_t { kSpanOk = 0, kSpanBadLength = 1, kSpanUnaligned = 2, kSpanTooLong = 3, kSpanNoContext = 4 };
constexpr int64_t kNoScene = -1;

struct SpanArgs {
  double shift, threshold, min_secs, max_secs, horizon_end;
};

// numpy.searchsorted(a, v, side="left"): first index with a[i] >= v (n when none).
VF_HOST_DEVICE int64_t sorted_lower(const double* a, int64_t n, double v) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    if (a[mid] < v) lo = mid + 1; else hi = mid;
  }
  return lo;
}

// numpy.searchsorted(a, v, side="right"): first index with a[i] > v (n when none).
VF_HOST_DEVICE int64_t sorted_upper(const double* a, int64_t n, double v) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    if (a[mid] <= v) lo = mid + 1; else hi = mid;
  }
  return lo;
}

// Steps 1-4 of one caption: length check, locate [p0, p1] (fixed fallbacks: none -> unaligned),
// grow over neighbours similar to the original end scenes (no chaining), moving *cs / *ce to the
// grown scenes' bounds. Returns kSpanOk when the scan continues.
template <typename T>
VF_HOST_DEVICE int64_t span_locate(const T* sim, int64_t n, const double* starts, const double* ends, double* cs,
                                   double* ce, const SpanArgs& a, T thr, int64_t* lo, int64_t* hi) {
  if (*ce - *cs < a.min_secs || *ce - *cs > a.max_secs) return kSpanBadLength;
  const int64_t p0 = sorted_lower(starts, n, *cs - a.shift);
  const int64_t p1 = sorted_upper(ends, n, *ce + a.shift) - 1;
  if (p1 < p0) return kSpanUnaligned;
  int64_t l = p0, h = p1;
  while (l - 1 >= 0 && sim[(l - 1) * n + p0] > thr) --l;
  while (h + 1 < n && sim[(h + 1) * n + p1] > thr) ++h;
  if (l < p0) *cs = starts[l];
  if (h > p1) *ce = ends[h];
  *lo = l;
  *hi = h;
  return kSpanOk;
}

// Steps 6-9 given, per side, how many scenes are similar to the span and the nearest one.
// left_similar counts similar scenes in [0, lo) (nearest = the largest such index), right_similar
// those in (hi, n) (nearest = the smallest). Writes scenes [4] and secs [4]; returns the status.
VF_HOST_DEVICE int64_t span_finish(int64_t n, const double* starts, const double* ends, double cs, double ce,
                                   const SpanArgs& a, int64_t lo, int64_t hi, int64_t left_similar,
                                   int64_t left_nearest, int64_t right_similar, int64_t right_nearest,
                                   int64_t* scenes, double* secs) {
  double neg_s = 0.0, neg_e = a.horizon_end;
  int64_t ls = kNoScene, rs = kNoScene;
  if (left_similar == lo && lo > 0) {
    neg_s = cs;  // every scene before the span is similar: no room on the left
  } else if (left_similar > 0) {
    ls = left_nearest;
    neg_s = ends[ls];
  }
  const int64_t right_count = n - 1 - hi;
  if (right_similar == right_count && right_count > 0) {
    neg_e = ce;
  } else if (right_similar > 0) {
    rs = right_nearest;
    neg_e = starts[rs];
  }
  // Fix: a similar scene overlapping the caption's own slack never cuts into the positive span.
  neg_s = neg_s < cs ? neg_s : cs;
  neg_e = neg_e > ce ? neg_e : ce;
  scenes[0] = lo; scenes[1] = hi; scenes[2] = ls; scenes[3] = rs;
  secs[0] = cs; secs[1] = ce; secs[2] = neg_s; secs[3] = neg_e;
  if (ce - cs > a.max_secs) return kSpanTooLong;
  return (neg_s >= cs && neg_e <= ce) ? kSpanNoContext : kSpanOk;
}

// ---- CUDA entry points: device pointers (float32 matrices, int64 offsets), enqueued on `stream` ----
// x [f, d] -> out [m, d]; offsets [m+1]. One block per segment, threads over d.
void segment_mean_cuda(uintptr_t x, uintptr_t offsets, uintptr_t out, int64_t f, int64_t d, int64_t m,
                       uintptr_t stream);
// sim [n, n] -> out [m, m]; workspace float32 [m, n] (rows pooled). Block per output row, two passes.
void segment_max_pool_cuda(uintptr_t sim, uintptr_t offsets, uintptr_t workspace, uintptr_t out, int64_t n,
                           int64_t m, uintptr_t stream);
// sims [b, n_max, n_max] (video v uses the top-left sizes[v] square) -> out_offsets int64
// [b, n_max+1] (span starts then the end), out_counts int64 [b] spans per video. Thread per video.
void merge_scan_cuda(uintptr_t sims, uintptr_t sizes, uintptr_t out_offsets, uintptr_t out_counts, int64_t b,
                     int64_t n_max, double threshold, bool union_rule, uintptr_t stream);
// One block per caption over one video's matrix: sim [n, n] float32, starts/ends float64 [n],
// cap_start/cap_end float64 [k] -> status int64 [k], scenes int64 [k, 4], secs float64 [k, 4].
void span_scan_cuda(uintptr_t sim, uintptr_t starts, uintptr_t ends, uintptr_t cap_start, uintptr_t cap_end,
                    uintptr_t status, uintptr_t scenes, uintptr_t secs, int64_t n, int64_t k, double shift,
                    double threshold, double min_secs, double max_secs, double horizon_end, uintptr_t stream);

}  // namespace vidfast

#ifndef __CUDACC__
#include <pybind11/pybind11.h>
namespace vidfast {
// Adds the similarity entries (CPU, and CUDA when built) to the module; called from bindings.cpp.
void register_similarity(pybind11::module_& m);
}  // namespace vidfast
#endif
