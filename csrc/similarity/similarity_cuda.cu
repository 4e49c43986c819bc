// similarity CUDA kernels (float32 matrices, int64 offsets / scene ids, float64 times).
//
//   segment_mean      grid m blocks x 256 threads: block = one segment, threads stride over D
//                     (each column summed sequentially over the segment's rows, like the CPU).
//   segment_max_pool  pass 1, grid m: block = one span of rows, threads stride over the N columns
//                     -> workspace [m, n]; pass 2, grid m: block = one pooled row, threads stride over
//                     the m column spans -> out [m, m], diagonal 1. NaN propagates like numpy.maximum.
//   merge_scan        grid_for(b) threads: one thread runs the sequential scan of one video's
//                     padded [n_max, n_max] matrix (row stride n_max).
//   span_scan         grid k blocks x 256 threads: thread 0 locates and grows the span; the block
//                     marks similar columns (coalesced row reads) and reduces, per side, the count
//                     and nearest index with shared-memory atomics; thread 0 writes the record.
#include <cuda_runtime.h>

#include "common/cuda_utils.cuh"
#include "similarity/similarity.h"

namespace vidfast {
namespace {

__device__ __forceinline__ float nan_maxf(float m, float v) { return (v > m || v != v) ? v : m; }

__global__ void segment_mean_kernel(const float* __restrict__ x, const int64_t* __restrict__ off,
                                    float* __restrict__ out, int64_t d) {
  const int64_t s = blockIdx.x;
  const int64_t r0 = off[s], r1 = off[s + 1];
  const float count = static_cast<float>(r1 - r0);
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    float acc = 0.f;
    for (int64_t r = r0; r < r1; ++r) acc += x[r * d + j];
    out[s * d + j] = acc / count;
  }
}

__global__ void pool_rows_kernel(const float* __restrict__ sim, const int64_t* __restrict__ off,
                                 float* __restrict__ rows, int64_t n) {
  const int64_t s = blockIdx.x;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    float v = sim[off[s] * n + j];
    for (int64_t r = off[s] + 1; r < off[s + 1]; ++r) v = nan_maxf(v, sim[r * n + j]);
    rows[s * n + j] = v;
  }
}

__global__ void pool_cols_kernel(const float* __restrict__ rows, const int64_t* __restrict__ off,
                                 float* __restrict__ out, int64_t n, int64_t m) {
  const int64_t a = blockIdx.x;
  const float* row = rows + a * n;
  for (int64_t s = threadIdx.x; s < m; s += blockDim.x) {
    float v = row[off[s]];
    for (int64_t j = off[s] + 1; j < off[s + 1]; ++j) v = nan_maxf(v, row[j]);
    out[a * m + s] = a == s ? 1.f : v;
  }
}

__global__ void merge_scan_kernel(const float* __restrict__ sims, const int64_t* __restrict__ sizes,
                                  int64_t* __restrict__ out_offsets, int64_t* __restrict__ out_counts, int64_t b,
                                  int64_t n_max, float thr, bool union_rule) {
  for (int64_t v = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; v < b;
       v += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float* sim = sims + v * n_max * n_max;
    int64_t* starts = out_offsets + v * (n_max + 1);
    const int64_t n = sizes[v];
    int64_t count = 0, s = 0;
    if (n > 0) starts[count++] = 0;
    for (int64_t i = 1; i < n; ++i) {
      bool joins = false;
      if (union_rule) {
        for (int64_t k = i - 1; k >= s && !joins; --k) joins = sim[k * n_max + i] > thr;
      } else {
        joins = sim[(i - 1) * n_max + i] > thr;
      }
      if (!joins) starts[count++] = s = i;
    }
    starts[count] = n;
    out_counts[v] = count;
  }
}

__global__ void span_scan_kernel(const float* __restrict__ sim, const double* __restrict__ starts,
                                 const double* __restrict__ ends, const double* __restrict__ cap_start,
                                 const double* __restrict__ cap_end, int64_t* __restrict__ status,
                                 int64_t* __restrict__ scenes, double* __restrict__ secs, int64_t n, SpanArgs a) {
  __shared__ int64_t s_lo, s_hi, s_status;
  __shared__ double s_cs, s_ce;
  __shared__ int s_left, s_left_near, s_right, s_right_near;
  const int64_t i = blockIdx.x;
  const float thr = static_cast<float>(a.threshold);
  if (threadIdx.x == 0) {
    s_cs = cap_start[i];
    s_ce = cap_end[i];
    s_status = span_locate<float>(sim, n, starts, ends, &s_cs, &s_ce, a, thr, &s_lo, &s_hi);
    s_left = 0; s_right = 0; s_left_near = -1; s_right_near = static_cast<int>(n);
    for (int c = 0; c < 4; ++c) { scenes[i * 4 + c] = kNoScene; secs[i * 4 + c] = 0.0; }
  }
  __syncthreads();
  if (s_status != kSpanOk) {
    if (threadIdx.x == 0) status[i] = s_status;
    return;
  }
  const int64_t lo = s_lo, hi = s_hi;
  int left = 0, left_near = -1, right = 0, right_near = static_cast<int>(n);
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    if (j >= lo && j <= hi) continue;
    bool similar = false;
    for (int64_t r = lo; r <= hi && !similar; ++r) similar = !(sim[r * n + j] < thr);
    if (!similar) continue;
    if (j < lo) { ++left; left_near = static_cast<int>(j); }
    else { ++right; right_near = right_near < j ? right_near : static_cast<int>(j); }
  }
  atomicAdd(&s_left, left);
  atomicMax(&s_left_near, left_near);
  atomicAdd(&s_right, right);
  atomicMin(&s_right_near, right_near);
  __syncthreads();
  if (threadIdx.x == 0) {
    status[i] = span_finish(n, starts, ends, s_cs, s_ce, a, lo, hi, s_left, s_left_near, s_right,
                            s_right_near < n ? s_right_near : kNoScene, scenes + i * 4, secs + i * 4);
  }
}

}  // namespace

void segment_mean_cuda(uintptr_t x, uintptr_t offsets, uintptr_t out, int64_t f, int64_t d, int64_t m,
                       uintptr_t stream) {
  const char* op = "segment_mean_cuda";
  check_ptr(op, "x", x); check_ptr(op, "offsets", offsets); check_ptr(op, "out", out);
  check_size(op, "rows", f); check_size(op, "dim", d); check_size(op, "segments", m);
  segment_mean_kernel<<<static_cast<unsigned>(m), kThreads, 0, as_stream(stream)>>>(
      reinterpret_cast<const float*>(x), reinterpret_cast<const int64_t*>(offsets), reinterpret_cast<float*>(out), d);
  check_launch(op);
}

void segment_max_pool_cuda(uintptr_t sim, uintptr_t offsets, uintptr_t workspace, uintptr_t out, int64_t n,
                           int64_t m, uintptr_t stream) {
  const char* op = "segment_max_pool_cuda";
  check_ptr(op, "sim", sim); check_ptr(op, "offsets", offsets); check_ptr(op, "workspace", workspace);
  check_ptr(op, "out", out); check_size(op, "n", n); check_size(op, "spans", m);
  const auto* off = reinterpret_cast<const int64_t*>(offsets);
  auto* rows = reinterpret_cast<float*>(workspace);
  pool_rows_kernel<<<static_cast<unsigned>(m), kThreads, 0, as_stream(stream)>>>(
      reinterpret_cast<const float*>(sim), off, rows, n);
  check_launch(op);
  pool_cols_kernel<<<static_cast<unsigned>(m), kThreads, 0, as_stream(stream)>>>(
      rows, off, reinterpret_cast<float*>(out), n, m);
  check_launch(op);
}

void merge_scan_cuda(uintptr_t sims, uintptr_t sizes, uintptr_t out_offsets, uintptr_t out_counts, int64_t b,
                     int64_t n_max, double threshold, bool union_rule, uintptr_t stream) {
  const char* op = "merge_scan_cuda";
  check_ptr(op, "sims", sims); check_ptr(op, "sizes", sizes); check_ptr(op, "out_offsets", out_offsets);
  check_ptr(op, "out_counts", out_counts); check_size(op, "batch", b); check_size(op, "n_max", n_max, 0);
  merge_scan_kernel<<<grid_for(b), kThreads, 0, as_stream(stream)>>>(
      reinterpret_cast<const float*>(sims), reinterpret_cast<const int64_t*>(sizes),
      reinterpret_cast<int64_t*>(out_offsets), reinterpret_cast<int64_t*>(out_counts), b, n_max,
      static_cast<float>(threshold), union_rule);
  check_launch(op);
}

void span_scan_cuda(uintptr_t sim, uintptr_t starts, uintptr_t ends, uintptr_t cap_start, uintptr_t cap_end,
                    uintptr_t status, uintptr_t scenes, uintptr_t secs, int64_t n, int64_t k, double shift,
                    double threshold, double min_secs, double max_secs, double horizon_end, uintptr_t stream) {
  const char* op = "span_scan_cuda";
  check_ptr(op, "sim", sim); check_ptr(op, "starts", starts); check_ptr(op, "ends", ends);
  check_ptr(op, "cap_start", cap_start); check_ptr(op, "cap_end", cap_end); check_ptr(op, "status", status);
  check_ptr(op, "scenes", scenes); check_ptr(op, "secs", secs);
  check_size(op, "scenes", n); check_size(op, "captions", k);
  if (n >= (int64_t{1} << 31)) fail(op, "more than 2^31 scenes");
  const SpanArgs a{shift, threshold, min_secs, max_secs, horizon_end};
  span_scan_kernel<<<static_cast<unsigned>(k), kThreads, 0, as_stream(stream)>>>(
      reinterpret_cast<const float*>(sim), reinterpret_cast<const double*>(starts),
      reinterpret_cast<const double*>(ends), reinterpret_cast<const double*>(cap_start),
      reinterpret_cast<const double*>(cap_end), reinterpret_cast<int64_t*>(status),
      reinterpret_cast<int64_t*>(scenes), reinterpret_cast<double*>(secs), n, a);
  check_launch(op);
}

}  // namespace vidfast
