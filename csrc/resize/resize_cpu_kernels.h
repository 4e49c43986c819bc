// Row kernels shared by the CPU ops that resample (resize_u8, yuv420p_to_rgb, normalize_to_chw_f32):
// precomputed index/weight tables and the vertical-blend + horizontal-gather passes.
// CPU only; every function works on one output row so callers parallelise over rows.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "resize/resize.h"

namespace vidfast {

struct LinearTable {            // one entry per output coordinate
  std::vector<int> i0, i1;      // source offsets (already multiplied by C for the x axis)
  std::vector<int> w0, w1;      // 11-bit fixed-point weights
  std::vector<int32_t> wp;      // (w0 & 0xffff) | (w1 << 16): one int16 pair for _mm256_madd_epi16
  std::vector<int32_t> wp3;     // per coordinate {wp, wp, wp, 0}: the 3-channel madd weights, 2 per load
};

// Rows handed to linear_hpass need this many spare int16 after the last element: the AVX2 path
// loads the two neighbours of the last pixel as one vector (their extra lanes have weight 0).
constexpr int kRowPad = 16;

static inline LinearTable linear_table(int64_t src, int64_t dst, int64_t stride, bool area_mode) {
  LinearTable t;
  t.i0.resize(dst); t.i1.resize(dst); t.w0.resize(dst); t.w1.resize(dst); t.wp.resize(dst); t.wp3.resize(4 * dst);
  const double scale = resize_scale(src, dst);
  for (int64_t d = 0; d < dst; ++d) {
    int s; float f;
    linear_coord(d, scale, src, area_mode, &s, &f);
    fixed_weights(f, &t.w0[d], &t.w1[d]);
    t.i0[d] = static_cast<int>(s * stride);
    t.i1[d] = static_cast<int>(std::min<int64_t>(s + 1, src - 1) * stride);
    t.wp[d] = static_cast<int32_t>((static_cast<uint32_t>(t.w0[d]) & 0xffffu) | (static_cast<uint32_t>(t.w1[d]) << 16));
    for (int k = 0; k < 3; ++k) t.wp3[4 * d + k] = t.wp[d];
  }
  return t;
}


// Portable horizontal pass: weights are >= 0 and sum to 2048, so results are already in [0, 255].
template <int C>
static inline void linear_hpass_scalar(const int16_t* __restrict row, const LinearTable& x, int begin, int ow,
                                       uint8_t* __restrict out) {
  for (int d = begin; d < ow; ++d)
    for (int k = 0; k < C; ++k)
      out[d * C + k] = static_cast<uint8_t>(hblend(row[x.i0[d] + k], row[x.i1[d] + k], x.w0[d], x.w1[d]));
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <cstring>
#define VF_HAVE_AVX2_PATH 1

// AVX2 vertical blend: 16 elements per step; (s0, s1) pairs times (b0, b1) with one madd.
__attribute__((target("avx2"))) static inline int blend_avx2(const uint8_t* __restrict s0,
                                                             const uint8_t* __restrict s1, int b0, int b1, int n,
                                                             int16_t* __restrict out) {
  const __m256i w = _mm256_set1_epi32(static_cast<int32_t>((static_cast<uint32_t>(b0) & 0xffffu) |
                                                           (static_cast<uint32_t>(b1) << 16)));
  const __m256i rnd = _mm256_set1_epi32(1 << (kRowShift - 1));
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s0 + i)));
    const __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s1 + i)));
    const __m256i lo = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), w), rnd),
                                         kRowShift);
    const __m256i hi = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), w), rnd),
                                         kRowShift);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_packs_epi32(lo, hi));
  }
  return i;
}

// AVX2, C = 3: two output pixels per step. One 16-byte load at i0 holds both neighbours
// (r0 g0 b0 r1 g1 b1 ..; i1 == i0 + 3 whenever w1 != 0), a shuffle pairs them (r0 r1 g0 g1 b0 b1)
// and one madd applies (w0, w1) to all three channels.
__attribute__((target("avx2"))) static inline int hpass3_avx2(const int16_t* __restrict row, const LinearTable& x,
                                                              int ow, uint8_t* __restrict out) {
  const __m256i pairs = _mm256_setr_epi8(0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11, -1, -1, -1, -1,
                                         0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11, -1, -1, -1, -1);
  const __m256i rnd = _mm256_set1_epi32(1 << (kHShift - 1));
  int d = 0;
  for (; d + 3 <= ow; d += 2) {  // each step writes 4 bytes per pixel; the last one is left to scalar
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + x.i0[d]));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + x.i0[d + 1]));
    const __m256i v = _mm256_shuffle_epi8(_mm256_set_m128i(hi, lo), pairs);
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.wp3.data() + 4 * d));
    __m256i r = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(v, w), rnd), kHShift);
    r = _mm256_packs_epi32(r, r);
    r = _mm256_packus_epi16(r, r);
    const int32_t p0 = _mm256_extract_epi32(r, 0), p1 = _mm256_extract_epi32(r, 4);
    std::memcpy(out + 3 * d, &p0, 4);
    std::memcpy(out + 3 * d + 3, &p1, 4);
  }
  return d;
}

// AVX2, C = 1: eight output pixels per step; each neighbour pair is one 32-bit load.
__attribute__((target("avx2"))) static inline int hpass1_avx2(const int16_t* __restrict row, const LinearTable& x,
                                                              int ow, uint8_t* __restrict out) {
  const __m256i rnd = _mm256_set1_epi32(1 << (kHShift - 1));
  int d = 0;
  for (; d + 8 <= ow; d += 8) {
    int32_t p[8];
    for (int j = 0; j < 8; ++j) std::memcpy(&p[j], row + x.i0[d + j], 4);
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.wp.data() + d));
    __m256i r = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(v, w), rnd), kHShift);
    r = _mm256_packs_epi32(r, r);
    r = _mm256_packus_epi16(r, r);
    const int32_t a = _mm256_extract_epi32(r, 0), b = _mm256_extract_epi32(r, 4);
    std::memcpy(out + d, &a, 4);
    std::memcpy(out + d + 4, &b, 4);
  }
  return d;
}

static inline bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

// Vertical pass: row t = vblend(s0, s1) over n elements (int16).
static inline void blend_rows(const uint8_t* __restrict s0, const uint8_t* __restrict s1, int b0, int b1, int n,
                              int16_t* __restrict out) {
  int i = 0;
#ifdef VF_HAVE_AVX2_PATH
  if (cpu_has_avx2()) i = blend_avx2(s0, s1, b0, b1, n, out);
#endif
  for (; i < n; ++i) out[i] = static_cast<int16_t>(vblend(s0[i], s1[i], b0, b1));
}

// One output row from one vertically blended row (int16, kRowPad spare elements at the end).
template <int C>
static inline void linear_hpass(const int16_t* __restrict row, const LinearTable& x, int ow, uint8_t* __restrict out) {
  int done = 0;
#ifdef VF_HAVE_AVX2_PATH
  if (cpu_has_avx2()) done = C == 3 ? hpass3_avx2(row, x, ow, out) : hpass1_avx2(row, x, ow, out);
#endif
  linear_hpass_scalar<C>(row, x, done, ow, out);
}

// Float variants for normalize_to_chw_f32: same coordinates, float weights, no rounding.
struct LinearTableF {
  std::vector<int> i0, i1;
  std::vector<float> w0, w1;
};

static inline LinearTableF linear_table_f(int64_t src, int64_t dst, int64_t stride) {
  LinearTableF t;
  t.i0.resize(dst); t.i1.resize(dst); t.w0.resize(dst); t.w1.resize(dst);
  const double scale = resize_scale(src, dst);
  for (int64_t d = 0; d < dst; ++d) {
    int s; float f;
    linear_coord(d, scale, src, false, &s, &f);
    t.w0[d] = 1.f - f;
    t.w1[d] = f;
    t.i0[d] = static_cast<int>(s * stride);
    t.i1[d] = static_cast<int>(std::min<int64_t>(s + 1, src - 1) * stride);
  }
  return t;
}

VF_CLONES static inline void blend_rows_f(const uint8_t* __restrict s0, const uint8_t* __restrict s1, float b0, float b1,
                                          int n, float* __restrict out) {
  for (int i = 0; i < n; ++i) out[i] = static_cast<float>(s0[i]) * b0 + static_cast<float>(s1[i]) * b1;
}

}  // namespace vidfast
