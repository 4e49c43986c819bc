// convert_color_u8 CPU kernels.
// Layout: src uint8 [N, H, W, 3] -> dst uint8 [N, H, W, 3] (swap, hsv) or [N, H, W, 1] (gray).
// Parallelism: parallel_for (common/parallel.h) over the N*H rows; one straight loop per row
// (AVX2 paths for gray and HSV, portable loops otherwise).
#include "color/color.h"

#include <algorithm>
#include <array>
#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "common/array.h"
#include "common/parallel.h"

namespace vidfast {
namespace {

struct HsvTables {
  std::array<int, 256> sdiv{}, hdiv{};
  HsvTables() {
    for (int i = 0; i < 256; ++i) { sdiv[i] = hsv_sdiv(i); hdiv[i] = hsv_hdiv(i); }
  }
};

const HsvTables& hsv_tables() {
  static const HsvTables tables;
  return tables;
}

VF_CLONES void swap_row(const uint8_t* __restrict s, uint8_t* __restrict d, int w) {
  for (int x = 0; x < w; ++x) {
    const uint8_t a = s[3 * x], b = s[3 * x + 1], c = s[3 * x + 2];
    d[3 * x] = c; d[3 * x + 1] = b; d[3 * x + 2] = a;
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// AVX2 gray, 16 pixels per step: pshufb splits 48 interleaved bytes into three 16-byte planes,
// then two madds per 8 pixels apply (cR, cG) and (cB, rounding) in 32-bit: bit-exact with gray_u8.
struct Deinterleave3 {
  __m128i mask[3][3];   // [channel][source chunk]: 48 packed bytes -> 16-byte plane
  __m128i imask[3][3];  // [output chunk][channel]: three planes -> 48 packed bytes
  Deinterleave3() {
    for (int k = 0; k < 3; ++k)
      for (int j = 0; j < 3; ++j) {
        alignas(16) int8_t b[16], c[16];
        for (int i = 0; i < 16; ++i) {
          b[i] = (3 * i + k) / 16 == j ? static_cast<int8_t>((3 * i + k) % 16) : -128;
          c[i] = (16 * j + i) % 3 == k ? static_cast<int8_t>((16 * j + i) / 3) : -128;
        }
        mask[k][j] = _mm_load_si128(reinterpret_cast<const __m128i*>(b));
        imask[j][k] = _mm_load_si128(reinterpret_cast<const __m128i*>(c));
      }
  }
};

__attribute__((target("avx2"))) inline __m128i plane16(const __m128i c[3], const Deinterleave3& t, int k) {
  return _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(c[0], t.mask[k][0]), _mm_shuffle_epi8(c[1], t.mask[k][1])),
                      _mm_shuffle_epi8(c[2], t.mask[k][2]));
}

__attribute__((target("avx2"))) int gray_avx2(const uint8_t* __restrict s, uint8_t* __restrict d, int w, int ri, int bi) {
  static const Deinterleave3 t;
  const __m256i w_rg = _mm256_set1_epi32(kGrayR | (kGrayG << 16));
  const __m256i w_b1 = _mm256_set1_epi32(kGrayB | ((1 << (kGrayShift - 1)) << 16));
  const __m256i one = _mm256_set1_epi16(1);
  int x = 0;
  for (; x + 16 <= w; x += 16) {
    const __m128i c[3] = {_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 3 * x)),
                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 3 * x + 16)),
                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 3 * x + 32))};
    const __m256i r = _mm256_cvtepu8_epi16(plane16(c, t, ri)), g = _mm256_cvtepu8_epi16(plane16(c, t, 1));
    const __m256i b = _mm256_cvtepu8_epi16(plane16(c, t, bi));
    const __m256i lo = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpacklo_epi16(r, g), w_rg),
                                                          _mm256_madd_epi16(_mm256_unpacklo_epi16(b, one), w_b1)),
                                         kGrayShift);
    const __m256i hi = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpackhi_epi16(r, g), w_rg),
                                                          _mm256_madd_epi16(_mm256_unpackhi_epi16(b, one), w_b1)),
                                         kGrayShift);
    const __m256i p = _mm256_packus_epi16(_mm256_packs_epi32(lo, hi), _mm256_setzero_si256());
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + x), _mm256_castsi256_si128(_mm256_permute4x64_epi64(p, 0x08)));
  }
  return x;
}
__attribute__((target("avx2"))) inline void store_interleaved(const __m128i p[3], const Deinterleave3& t, uint8_t* d) {
  for (int j = 0; j < 3; ++j) {
    const __m128i o = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(p[0], t.imask[j][0]), _mm_shuffle_epi8(p[1], t.imask[j][1])),
                                   _mm_shuffle_epi8(p[2], t.imask[j][2]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 16 * j), o);
  }
}

// 2 x 8 int32 lanes (values 0..255) -> 16 bytes in order.
__attribute__((target("avx2"))) inline __m128i pack16(__m256i lo, __m256i hi) {
  const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xD8);
  return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi16(w, w), 0x08));
}

// HSV of 8 pixels in int32 lanes, the same arithmetic as hsv_row_float (reciprocals by division).
__attribute__((target("avx2"))) inline void hsv8(__m256i r, __m256i g, __m256i b, __m256i* h, __m256i* sat) {
  const __m256i one = _mm256_set1_epi32(1), rnd = _mm256_set1_epi32(1 << (kHsvShift - 1));
  const __m256i v = _mm256_max_epi32(_mm256_max_epi32(r, g), b);
  const __m256i diff = _mm256_sub_epi32(v, _mm256_min_epi32(_mm256_min_epi32(r, g), b));
  const __m256i sdiv = _mm256_cvtps_epi32(_mm256_div_ps(_mm256_set1_ps(float(255 << kHsvShift)),
                                                        _mm256_cvtepi32_ps(_mm256_max_epi32(v, one))));
  const __m256i hdiv = _mm256_cvtps_epi32(_mm256_div_ps(_mm256_set1_ps(float((180 << kHsvShift) / 6)),
                                                        _mm256_cvtepi32_ps(_mm256_max_epi32(diff, one))));
  *sat = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(diff, sdiv), rnd), kHsvShift);
  const __m256i hr = _mm256_sub_epi32(g, b);
  const __m256i hg = _mm256_add_epi32(_mm256_sub_epi32(b, r), _mm256_slli_epi32(diff, 1));
  const __m256i hb = _mm256_add_epi32(_mm256_sub_epi32(r, g), _mm256_slli_epi32(diff, 2));
  const __m256i hn = _mm256_blendv_epi8(_mm256_blendv_epi8(hb, hg, _mm256_cmpeq_epi32(v, g)), hr,
                                        _mm256_cmpeq_epi32(v, r));
  __m256i hh = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(hn, hdiv), rnd), kHsvShift);
  hh = _mm256_add_epi32(hh, _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), hh), _mm256_set1_epi32(180)));
  *h = hh;
}

__attribute__((target("avx2"))) int hsv_avx2(const uint8_t* __restrict s, uint8_t* __restrict d, int w, int ri,
                                             int bi) {
  static const Deinterleave3 t;
  int x = 0;
  for (; x + 16 <= w; x += 16) {
    const __m128i c[3] = {_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 3 * x)),
                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 3 * x + 16)),
                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 3 * x + 32))};
    const __m128i r = plane16(c, t, ri), g = plane16(c, t, 1), b = plane16(c, t, bi);
    __m256i h[2], sat[2];
    hsv8(_mm256_cvtepu8_epi32(r), _mm256_cvtepu8_epi32(g), _mm256_cvtepu8_epi32(b), &h[0], &sat[0]);
    hsv8(_mm256_cvtepu8_epi32(_mm_srli_si128(r, 8)), _mm256_cvtepu8_epi32(_mm_srli_si128(g, 8)),
         _mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)), &h[1], &sat[1]);
    const __m128i v = _mm_max_epu8(_mm_max_epu8(r, g), b);
    const __m128i out[3] = {pack16(h[0], h[1]), pack16(sat[0], sat[1]), v};
    store_interleaved(out, t, d + 3 * x);
  }
  return x;
}

#endif

template <bool kBgr>
void gray_row(const uint8_t* __restrict s, uint8_t* __restrict d, int w) {
  constexpr int R = kBgr ? 2 : 0, B = kBgr ? 0 : 2;
  int x = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) x = gray_avx2(s, d, w, R, B);
#endif
  for (; x < w; ++x) d[x] = gray_u8(s[3 * x + R], s[3 * x + 1], s[3 * x + B]);
}

// Branch-free HSV that vectorises without table gathers: OpenCV's reciprocal tables are rebuilt
// on the fly with one float division each. IEEE division is correctly rounded, and for every
// index 1..255 rint(float quotient) equals the double-precision table entry (checked once at
// start-up by float_tables_exact(); the table path below is used if that ever fails).
// Index 0 is clamped to 1: its products are multiplied by diff == 0 / a zero numerator anyway.
template <bool kBgr>
VF_CLONES void hsv_row_float(const uint8_t* __restrict s, uint8_t* __restrict d, int w) {
  constexpr int R = kBgr ? 2 : 0, B = kBgr ? 0 : 2;
  constexpr int kRound = 1 << (kHsvShift - 1);
  for (int x = 0; x < w; ++x) {
    const int r = s[3 * x + R], g = s[3 * x + 1], b = s[3 * x + B];
    const int v = std::max(std::max(r, g), b);
    const int diff = v - std::min(std::min(r, g), b);
    const int sdiv = static_cast<int>(rintf(float(255 << kHsvShift) / static_cast<float>(std::max(v, 1))));
    const int hdiv = static_cast<int>(rintf(float((180 << kHsvShift) / 6) / static_cast<float>(std::max(diff, 1))));
    const int sat = (diff * sdiv + kRound) >> kHsvShift;
    int h = v == r ? g - b : (v == g ? b - r + 2 * diff : r - g + 4 * diff);
    h = (h * hdiv + kRound) >> kHsvShift;
    h += h < 0 ? 180 : 0;
    d[3 * x] = static_cast<uint8_t>(h);
    d[3 * x + 1] = static_cast<uint8_t>(sat);
    d[3 * x + 2] = static_cast<uint8_t>(v);
  }
}

bool float_tables_exact() {
  for (int i = 1; i < 256; ++i) {
    const volatile float f = static_cast<float>(i);
    if (static_cast<int>(rintf(float(255 << kHsvShift) / f)) != hsv_sdiv(i)) return false;
    if (static_cast<int>(rintf(float((180 << kHsvShift) / 6) / f)) != hsv_hdiv(i)) return false;
  }
  return true;
}

template <bool kBgr>
void hsv_row(const uint8_t* s, uint8_t* d, int w, const HsvTables& t) {
  static const bool exact = float_tables_exact();
  if (exact) {
    int x = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    static const bool avx2 = __builtin_cpu_supports("avx2");
    if (avx2) x = hsv_avx2(s, d, w, kBgr ? 2 : 0, kBgr ? 0 : 2);
#endif
    return hsv_row_float<kBgr>(s + 3 * x, d + 3 * x, w - x);
  }
  constexpr int R = kBgr ? 2 : 0, B = kBgr ? 0 : 2;
  for (int x = 0; x < w; ++x) hsv_u8(s[3 * x + R], s[3 * x + 1], s[3 * x + B], t.sdiv, t.hdiv, d + 3 * x);
}

void convert_row(const uint8_t* s, uint8_t* d, int w, ColorCode code, const HsvTables& t) {
  switch (code) {
    case ColorCode::kSwapRB: return swap_row(s, d, w);
    case ColorCode::kRgbToGray: return gray_row<false>(s, d, w);
    case ColorCode::kBgrToGray: return gray_row<true>(s, d, w);
    case ColorCode::kRgbToHsv: return hsv_row<false>(s, d, w, t);
    case ColorCode::kBgrToHsv: return hsv_row<true>(s, d, w, t);
  }
}

void convert_rows(const uint8_t* src, uint8_t* dst, int64_t rows, int64_t w, ColorCode code) {
  const int oc = color_out_channels(code);
  const HsvTables& t = hsv_tables();
  parallel_for(rows, w * 3, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) convert_row(src + r * w * 3, dst + r * w * oc, static_cast<int>(w), code, t);
  });
}

}  // namespace

pybind11::array convert_color_u8_cpu(const pybind11::array& src, const std::string& code) {
  const auto s = check_array<uint8_t, 4>(src, "convert_color_u8", "frames");
  check_color_args(s[0], s[1], s[2], s[3]);
  const ColorCode cc = parse_color_code(code);
  auto out = empty_array<uint8_t>({s[0], s[1], s[2], color_out_channels(cc)});
  const uint8_t* in_ptr = static_cast<const uint8_t*>(src.data());
  uint8_t* out_ptr = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    convert_rows(in_ptr, out_ptr, s[0] * s[1], s[2], cc);
  }
  return out;
}

}  // namespace vidfast
