// similarity CPU kernels (float32 and float64, chosen by the matrix dtype).
// Layout: row-major C-contiguous matrices; offsets int64 [M+1]. Work split: segment_mean and
// segment_max_pool (one fused pass per span of rows) run parallel_for over output rows;
// merge_scan is one sequential pass (it is inherently left-to-right); span_scan runs
// parallel_for over captions. The GIL is released around every kernel.
#include "similarity/similarity.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "common/array.h"
#include "common/parallel.h"

namespace vidfast {
namespace py = pybind11;
namespace {

// ---- argument checks ----

bool is_f32(const py::array& a) { return same_dtype(a.dtype(), py::dtype::of<float>()); }
bool is_f64(const py::array& a) { return same_dtype(a.dtype(), py::dtype::of<double>()); }

void check_layout(const py::array& a, const char* op, const char* name, int rank) {
  if (a.ndim() != rank)
    fail(op, std::string(name) + " must have " + std::to_string(rank) + " dimensions, got " + std::to_string(a.ndim()));
  if (!(a.flags() & py::array::c_style)) fail(op, std::string(name) + " must be C-contiguous");
}

void check_float(const py::array& a, const char* op, const char* name, int rank) {
  if (!is_f32(a) && !is_f64(a))
    fail(op, std::string(name) + " must be float32 or float64, got " + std::string(py::str(a.dtype())));
  check_layout(a, op, name, rank);
}

template <typename T>
const T* typed(const py::array& a, const char* op, const char* name, int rank) {
  if (!same_dtype(a.dtype(), py::dtype::of<T>()))
    fail(op, std::string(name) + " has dtype " + std::string(py::str(a.dtype())) + ", expected " +
                 std::string(py::str(py::dtype::of<T>())));
  check_layout(a, op, name, rank);
  return static_cast<const T*>(a.data());
}

// Offsets must start at 0, end at `total` and be strictly increasing (no empty segment).
const int64_t* checked_offsets(const py::array& offsets, int64_t total, const char* op) {
  const int64_t* off = typed<int64_t>(offsets, op, "offsets", 1);
  const int64_t m = offsets.shape(0) - 1;
  bool ok = m >= 0 && off[0] == 0 && off[m] == total;
  for (int64_t i = 0; ok && i < m; ++i) ok = off[i] < off[i + 1];
  if (!ok) fail(op, "offsets must increase strictly from 0 to " + std::to_string(total));
  return off;
}

void check_square(const py::array& sim, const char* op) {
  check_float(sim, op, "sim", 2);
  if (sim.shape(0) != sim.shape(1))
    fail(op, "sim must be square, got " + std::to_string(sim.shape(0)) + "x" + std::to_string(sim.shape(1)));
}

// numpy.maximum semantics: NaN wins.
template <typename T>
inline T nan_max(T m, T v) { return (v > m || v != v) ? v : m; }

// ---- segment_mean ----

template <typename T>
void segment_mean_kernel(const T* x, const int64_t* off, T* out, int64_t d, int64_t m) {
  parallel_for(m, (off[m] / (m ? m : 1)) * d, [&](int64_t b, int64_t e) {
    for (int64_t s = b; s < e; ++s) {
      T* o = out + s * d;
      for (int64_t j = 0; j < d; ++j) o[j] = 0;
      for (int64_t r = off[s]; r < off[s + 1]; ++r)
        for (int64_t j = 0; j < d; ++j) o[j] += x[r * d + j];
      const T count = static_cast<T>(off[s + 1] - off[s]);
      for (int64_t j = 0; j < d; ++j) o[j] /= count;
    }
  });
}

template <typename T>
py::array segment_mean_typed(const py::array& x, const py::array& offsets) {
  const int64_t f = x.shape(0), d = x.shape(1);
  const int64_t* off = checked_offsets(offsets, f, "segment_mean");
  const int64_t m = offsets.shape(0) - 1;
  py::array_t<T> out({m, d});
  const T* xp = static_cast<const T*>(x.data());
  T* op = out.mutable_data();
  py::gil_scoped_release release;
  segment_mean_kernel<T>(xp, off, op, d, m);
  return std::move(out);
}

py::array segment_mean_cpu(const py::array& x, const py::array& offsets) {
  check_float(x, "segment_mean", "x", 2);
  return is_f32(x) ? segment_mean_typed<float>(x, offsets) : segment_mean_typed<double>(x, offsets);
}

// ---- segment_max_pool ----

// dst[j] = max(dst[j], src[j]) (NaN-propagating); vectorises as a compare + blend.
template <typename T>
void max_into(const T* __restrict src, T* __restrict dst, int64_t n) {
  for (int64_t j = 0; j < n; ++j) dst[j] = nan_max(dst[j], src[j]);
}

// out[s] = max(row[off[s]:off[s+1]]) for s < m, NaN if any is NaN. Spans are short and their
// values random, so the max and the NaN flag are kept branch-free (maxss + setp): a data-dependent
// branch here mispredicted half the time and cost 2.5x.
template <typename T>
void pool_row(const T* __restrict row, const int64_t* __restrict off, T* __restrict out, int64_t m) {
  int64_t b = off[0];
  for (int64_t s = 0; s < m; ++s) {
    const int64_t e = off[s + 1];
    T v = row[b];
    bool nan = v != v;
    for (int64_t j = b + 1; j < e; ++j) {
      const T x = row[j];
      v = x > v ? x : v;
      nan |= x != x;
    }
    out[s] = nan ? std::numeric_limits<T>::quiet_NaN() : v;
    b = e;
  }
}

// One fused pass per span of rows: pool the span's rows into a thread-local [n] buffer (cache
// resident), then pool that buffer's columns into the output row - sim is read exactly once.
template <typename T>
void max_pool_kernel(const T* sim, const int64_t* off, T* out, int64_t n, int64_t m) {
  parallel_for(m, n * (n / (m ? m : 1)), [sim, off, out, n, m](int64_t b, int64_t e) {
    std::vector<T> row(static_cast<size_t>(n));
    for (int64_t a = b; a < e; ++a) {
      std::copy(sim + off[a] * n, sim + (off[a] + 1) * n, row.begin());
      for (int64_t r = off[a] + 1; r < off[a + 1]; ++r) max_into(sim + r * n, row.data(), n);
      pool_row(row.data(), off, out + a * m, m);
      out[a * m + a] = T(1);
    }
  });
}

template <typename T>
py::array max_pool_typed(const py::array& sim, const py::array& offsets) {
  const int64_t n = sim.shape(0);
  const int64_t* off = checked_offsets(offsets, n, "segment_max_pool");
  const int64_t m = offsets.shape(0) - 1;
  py::array_t<T> out({m, m});
  const T* sp = static_cast<const T*>(sim.data());
  T* op = out.mutable_data();
  py::gil_scoped_release release;
  max_pool_kernel<T>(sp, off, op, n, m);
  return std::move(out);
}

py::array segment_max_pool_cpu(const py::array& sim, const py::array& offsets) {
  check_square(sim, "segment_max_pool");
  return is_f32(sim) ? max_pool_typed<float>(sim, offsets) : max_pool_typed<double>(sim, offsets);
}

// ---- merge_scan ----

// Scene i joins the open span [s, i) iff sim[i-1][i] > t ("last") or any sim[k][i] > t, k in [s, i).
template <typename T>
int64_t merge_kernel(const T* sim, int64_t n, T thr, bool union_rule, int64_t* starts) {
  if (n == 0) return 0;
  int64_t count = 1, s = 0;
  starts[0] = 0;
  for (int64_t i = 1; i < n; ++i) {
    bool joins = false;
    if (union_rule) {
      for (int64_t k = i - 1; k >= s && !joins; --k) joins = sim[k * n + i] > thr;
    } else {
      joins = sim[(i - 1) * n + i] > thr;
    }
    if (!joins) starts[count++] = s = i;
  }
  return count;
}

template <typename T>
py::array merge_scan_typed(const py::array& sim, double threshold, bool union_rule) {
  const int64_t n = sim.shape(0);
  std::vector<int64_t> starts(static_cast<size_t>(n + 1));
  const T* sp = static_cast<const T*>(sim.data());
  int64_t count;
  {
    py::gil_scoped_release release;
    count = merge_kernel<T>(sp, n, static_cast<T>(threshold), union_rule, starts.data());
  }
  starts[count] = n;
  py::array_t<int64_t> out(count + 1);
  std::copy(starts.begin(), starts.begin() + count + 1, out.mutable_data());
  return std::move(out);
}

py::array merge_scan_cpu(const py::array& sim, double threshold, bool union_rule) {
  check_square(sim, "merge_scan");
  return is_f32(sim) ? merge_scan_typed<float>(sim, threshold, union_rule)
                     : merge_scan_typed<double>(sim, threshold, union_rule);
}

// ---- span_scan ----

// Steps 5-9 for one located span: which scenes are similar (!(sim < t) for some span row, so NaN
// counts as similar exactly as numpy's max-then-compare does), then the nearest one per side.
template <typename T>
int64_t span_one(const T* sim, int64_t n, const double* st, const double* en, double cs, double ce,
                 const SpanArgs& a, T thr, std::vector<unsigned char>& similar, int64_t* scenes, double* secs) {
  int64_t lo = 0, hi = 0;
  const int64_t status = span_locate<T>(sim, n, st, en, &cs, &ce, a, thr, &lo, &hi);
  if (status != kSpanOk) return status;
  similar.assign(static_cast<size_t>(n), 0);
  for (int64_t r = lo; r <= hi; ++r)
    for (int64_t j = 0; j < n; ++j) similar[j] |= static_cast<unsigned char>(!(sim[r * n + j] < thr));
  int64_t left = 0, left_near = kNoScene, right = 0, right_near = kNoScene;
  for (int64_t j = 0; j < lo; ++j) {  // branch-free: the flags are data, a branch mispredicts
    const int64_t f = similar[j];
    left += f;
    left_near = f ? j : left_near;
  }
  for (int64_t j = n - 1; j > hi; --j) {
    const int64_t f = similar[j];
    right += f;
    right_near = f ? j : right_near;
  }
  return span_finish(n, st, en, cs, ce, a, lo, hi, left, left_near, right, right_near, scenes, secs);
}

template <typename T>
py::tuple span_scan_typed(const py::array& sim, const double* st, const double* en, const double* cs,
                          const double* ce, int64_t k, const SpanArgs& a) {
  const int64_t n = sim.shape(0);
  py::array_t<int64_t> status(k), scenes({k, int64_t{4}});
  py::array_t<double> secs({k, int64_t{4}});
  const T* sp = static_cast<const T*>(sim.data());
  int64_t* stp = status.mutable_data();
  int64_t* scp = scenes.mutable_data();
  double* sep = secs.mutable_data();
  {
    py::gil_scoped_release release;
    const T thr = static_cast<T>(a.threshold);
    parallel_for(k, n * 4, [&](int64_t b, int64_t e) {
      std::vector<unsigned char> similar;
      for (int64_t i = b; i < e; ++i) {
        for (int c = 0; c < 4; ++c) { scp[i * 4 + c] = kNoScene; sep[i * 4 + c] = 0.0; }
        stp[i] = span_one<T>(sp, n, st, en, cs[i], ce[i], a, thr, similar, scp + i * 4, sep + i * 4);
      }
    });
  }
  return py::make_tuple(status, scenes, secs);
}

py::tuple span_scan_cpu(const py::array& sim, const py::array& starts, const py::array& ends,
                        const py::array& cap_start, const py::array& cap_end, double shift, double threshold,
                        double min_secs, double max_secs, double horizon_end) {
  const char* op = "span_scan";
  check_square(sim, op);
  const int64_t n = sim.shape(0), k = cap_start.shape(0);
  const double* st = typed<double>(starts, op, "starts", 1);
  const double* en = typed<double>(ends, op, "ends", 1);
  const double* cs = typed<double>(cap_start, op, "cap_start", 1);
  const double* ce = typed<double>(cap_end, op, "cap_end", 1);
  if (starts.shape(0) != n || ends.shape(0) != n) fail(op, "starts/ends must have one entry per scene");
  if (cap_end.shape(0) != k) fail(op, "cap_start and cap_end must have the same length");
  const SpanArgs a{shift, threshold, min_secs, max_secs, horizon_end};
  return is_f32(sim) ? span_scan_typed<float>(sim, st, en, cs, ce, k, a)
                     : span_scan_typed<double>(sim, st, en, cs, ce, k, a);
}

}  // namespace

void register_similarity(py::module_& m) {
  // float32|float64 x [F,D], int64 offsets [M+1] -> [M,D] per-segment row means.
  m.def("segment_mean", &segment_mean_cpu, py::arg("x"), py::arg("offsets"));
  // float32|float64 sim [N,N], int64 offsets [M+1] -> [M,M] block maxima (NaN-propagating), diagonal 1.
  m.def("segment_max_pool", &segment_max_pool_cpu, py::arg("sim"), py::arg("offsets"));
  // sim [N,N] -> int64 [M+1] span offsets of the consecutive merge (rule "union" when union_rule).
  m.def("merge_scan", &merge_scan_cpu, py::arg("sim"), py::arg("threshold"), py::arg("union_rule"));
  // sim [N,N], float64 scene starts/ends [N], caption starts/ends [K] -> (status [K], scenes [K,4], secs [K,4]).
  m.def("span_scan", &span_scan_cpu, py::arg("sim"), py::arg("starts"), py::arg("ends"), py::arg("cap_start"),
        py::arg("cap_end"), py::arg("shift"), py::arg("threshold"), py::arg("min_secs"), py::arg("max_secs"),
        py::arg("horizon_end"));
#ifdef VIDFAST_WITH_CUDA
  // (x, offsets, out, f, d, m, stream): float32 segment means on the GPU.
  m.def("segment_mean_cuda", &segment_mean_cuda, py::arg("x"), py::arg("offsets"), py::arg("out"), py::arg("f"),
        py::arg("d"), py::arg("m"), py::arg("stream") = 0);
  // (sim, offsets, workspace [m,n], out, n, m, stream): float32 block max-pool on the GPU.
  m.def("segment_max_pool_cuda", &segment_max_pool_cuda, py::arg("sim"), py::arg("offsets"), py::arg("workspace"),
        py::arg("out"), py::arg("n"), py::arg("m"), py::arg("stream") = 0);
  // (sims [b,n_max,n_max], sizes [b], out_offsets [b,n_max+1], out_counts [b], ...): one thread per video.
  m.def("merge_scan_cuda", &merge_scan_cuda, py::arg("sims"), py::arg("sizes"), py::arg("out_offsets"),
        py::arg("out_counts"), py::arg("b"), py::arg("n_max"), py::arg("threshold"), py::arg("union_rule"),
        py::arg("stream") = 0);
  // One block per caption: same outputs as span_scan, written to device buffers.
  m.def("span_scan_cuda", &span_scan_cuda, py::arg("sim"), py::arg("starts"), py::arg("ends"),
        py::arg("cap_start"), py::arg("cap_end"), py::arg("status"), py::arg("scenes"), py::arg("secs"), py::arg("n"),
        py::arg("k"), py::arg("shift"), py::arg("threshold"), py::arg("min_secs"), py::arg("max_secs"),
        py::arg("horizon_end"), py::arg("stream") = 0);
#endif
}

}  // namespace vidfast
