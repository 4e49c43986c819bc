// content_scores CPU kernels.
// Layout: frames uint8 [N, H, W, 3] BGR (+ optional prev [H, W, 3]) -> scores float64 [N, 4].
// Work: (1) OpenCV 8-bit HSV into planar scratch [F][3][H*W], F = N (+1 with prev), OpenMP over
// the F*H rows; (2) optional Canny + dilation per frame, OpenMP over frames; (3) per-frame sums of
// |a - b| per plane in int64, OpenMP over frames. The GIL is released for all three.
#include "scenes/scenes.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// AVX2 kernels compiled with a target attribute and picked at run time (cpu_has_avx2), so the
// portable build keeps its SSE2/scalar path for CPUs without AVX2.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define VF_HAVE_AVX2_PATH 1
#include <immintrin.h>
#else
#define VF_HAVE_AVX2_PATH 0
#endif

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <pybind11/stl.h>

#include "color/color.h"
#include "common/array.h"

namespace vidfast {
namespace {

// Scene batches are small (32 frames of ~256x144) and usually scored while FFmpeg decodes on the
// other cores: below this many pixels a parallel region's spin-waits cost the decoder more than
// the kernel gains.
constexpr int64_t kScenesParallelMinPixels = int64_t{1} << 23;

struct SceneHsvTables {
  std::array<int, 256> sdiv{}, hdiv{};
  SceneHsvTables() {
    for (int i = 0; i < 256; ++i) { sdiv[i] = hsv_sdiv(i); hdiv[i] = hsv_hdiv(i); }
  }
};

const SceneHsvTables& scene_hsv_tables() {
  static const SceneHsvTables tables;
  return tables;
}

// One BGR row -> three planar rows (H, S, V): OpenCV's 8-bit BGR2HSV (same arithmetic as
// color/color.h hsv_u8), written branch-free over int32 lanes so the AVX2 clone vectorises it
// (table reads become gathers).
VF_CLONES void hsv_planar_row(const uint8_t* __restrict s, int w, uint8_t* __restrict h, uint8_t* __restrict sat,
                              uint8_t* __restrict v, const int* __restrict sdiv, const int* __restrict hdiv) {
  constexpr int kRound = 1 << (kHsvShift - 1);
  for (int x = 0; x < w; ++x) {
    const int b = s[3 * x], g = s[3 * x + 1], r = s[3 * x + 2];
    int vmax = r > g ? r : g; vmax = vmax > b ? vmax : b;
    int vmin = r < g ? r : g; vmin = vmin < b ? vmin : b;
    const int diff = vmax - vmin;
    const int vr = vmax == r ? -1 : 0, vg = vmax == g ? -1 : 0;
    const int hh = (vr & (g - b)) + (~vr & ((vg & (b - r + 2 * diff)) + (~vg & (r - g + 4 * diff))));
    int hue = (hh * hdiv[diff] + kRound) >> kHsvShift;
    hue += hue < 0 ? 180 : 0;
    h[x] = static_cast<uint8_t>(hue);
    sat[x] = static_cast<uint8_t>((diff * sdiv[vmax] + kRound) >> kHsvShift);
    v[x] = static_cast<uint8_t>(vmax);
  }
}

// numpy.median of a uint8 plane (mean of the two middle values when the count is even).
double plane_median(const uint8_t* p, int64_t n) {
  std::array<int64_t, 256> hist{};
  for (int64_t i = 0; i < n; ++i) ++hist[p[i]];
  auto kth = [&](int64_t k) {
    int64_t acc = 0;
    for (int v = 0; v < 256; ++v) { acc += hist[v]; if (acc > k) return v; }
    return 255;
  };
  if (n % 2 == 1) return static_cast<double>(kth(n / 2));
  return (static_cast<double>(kth(n / 2 - 1)) + static_cast<double>(kth(n / 2))) / 2.0;
}

// OpenCV Canny (aperture 3, L1 magnitude, BORDER_REPLICATE Sobel) -> dst 0/255.
// map: 0 = weak candidate, 1 = not an edge, 2 = edge; one-pixel border of 1s, magnitude border 0.
class Canny {
 public:
  void run(const uint8_t* src, int h, int w, int low, int high, uint8_t* dst) {
    if (low > high) std::swap(low, high);
    const int mw = w + 2;
    mag_.assign(static_cast<size_t>(h + 2) * mw, 0);
    dx_.resize(static_cast<size_t>(h) * w);
    dy_.resize(static_cast<size_t>(h) * w);
    sobel(src, h, w);
    map_.assign(static_cast<size_t>(h + 2) * mw, 1);
    stack_.clear();
    suppress(h, w, low, high);
    hysteresis(mw);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) dst[static_cast<size_t>(y) * w + x] = map_[(y + 1) * mw + x + 1] == 2 ? 255 : 0;
  }

 private:
  void sobel(const uint8_t* src, int h, int w) {
    const int mw = w + 2;
    for (int y = 0; y < h; ++y) {
      const uint8_t* up = src + static_cast<size_t>(std::max(y - 1, 0)) * w;
      const uint8_t* mid = src + static_cast<size_t>(y) * w;
      const uint8_t* dn = src + static_cast<size_t>(std::min(y + 1, h - 1)) * w;
      for (int x = 0; x < w; ++x) {
        const int l = std::max(x - 1, 0), r = std::min(x + 1, w - 1);
        const int gx = (up[r] + 2 * mid[r] + dn[r]) - (up[l] + 2 * mid[l] + dn[l]);
        const int gy = (dn[l] + 2 * dn[x] + dn[r]) - (up[l] + 2 * up[x] + up[r]);
        dx_[static_cast<size_t>(y) * w + x] = gx;
        dy_[static_cast<size_t>(y) * w + x] = gy;
        mag_[(y + 1) * mw + x + 1] = std::abs(gx) + std::abs(gy);
      }
    }
  }

  // Non-maximum suppression with OpenCV's fixed-point tan(22.5) / tan(67.5) sector test.
  void suppress(int h, int w, int low, int high) {
    constexpr int kShift = 15;
    constexpr int kTg22 = 13573;  // round(tan(22.5 deg) * 2^15)
    const int mw = w + 2;
    for (int y = 0; y < h; ++y) {
      const int* mp = mag_.data() + y * mw + 1;        // row y-1
      const int* mc = mag_.data() + (y + 1) * mw + 1;  // row y
      const int* mn = mag_.data() + (y + 2) * mw + 1;  // row y+1
      uint8_t* map = map_.data() + (y + 1) * mw + 1;
      for (int x = 0; x < w; ++x) {
        const int m = mc[x];
        bool keep = false;
        if (m > low) {
          const int xs = dx_[static_cast<size_t>(y) * w + x], ys = dy_[static_cast<size_t>(y) * w + x];
          const int ax = std::abs(xs);
          const int ay = std::abs(ys) << kShift;
          const int tg22x = ax * kTg22;
          if (ay < tg22x) {
            keep = m > mc[x - 1] && m >= mc[x + 1];
          } else {
            const int tg67x = tg22x + (ax << (kShift + 1));
            if (ay > tg67x) {
              keep = m > mp[x] && m >= mn[x];
            } else {
              const int s = (xs ^ ys) < 0 ? -1 : 1;
              keep = m > mp[x - s] && m > mn[x + s];
            }
          }
        }
        if (!keep) { map[x] = 1; continue; }
        if (m > high) { map[x] = 2; stack_.push_back((y + 1) * mw + x + 1); }
        else map[x] = 0;
      }
    }
  }

  void hysteresis(int mw) {
    const int offs[8] = {-mw - 1, -mw, -mw + 1, -1, 1, mw - 1, mw, mw + 1};
    while (!stack_.empty()) {
      const int p = stack_.back();
      stack_.pop_back();
      for (int o : offs) {
        if (map_[p + o] == 0) { map_[p + o] = 2; stack_.push_back(p + o); }
      }
    }
  }

  std::vector<int> mag_, dx_, dy_, stack_;
  std::vector<uint8_t> map_;
};

// cv2.dilate with a k x k box of ones (constant border that never wins): separable max filter.
void dilate_box(uint8_t* img, int h, int w, int k, std::vector<uint8_t>& tmp) {
  const int r = k / 2;
  tmp.resize(static_cast<size_t>(h) * w);
  for (int y = 0; y < h; ++y) {
    const uint8_t* s = img + static_cast<size_t>(y) * w;
    uint8_t* d = tmp.data() + static_cast<size_t>(y) * w;
    for (int x = 0; x < w; ++x) {
      uint8_t v = 0;
      for (int j = std::max(0, x - r); j <= std::min(w - 1, x + r); ++j) v = std::max(v, s[j]);
      d[x] = v;
    }
  }
  for (int y = 0; y < h; ++y) {
    uint8_t* d = img + static_cast<size_t>(y) * w;
    const int y0 = std::max(0, y - r), y1 = std::min(h - 1, y + r);
    for (int x = 0; x < w; ++x) d[x] = 0;
    for (int yy = y0; yy <= y1; ++yy) {
      const uint8_t* s = tmp.data() + static_cast<size_t>(yy) * w;
      for (int x = 0; x < w; ++x) d[x] = std::max(d[x], s[x]);
    }
  }
}

// ContentDetector._detect_edges on one luma plane.
void detect_edges(const uint8_t* lum, int h, int w, int k, uint8_t* dst, Canny& canny, std::vector<uint8_t>& tmp) {
  const double sigma = 1.0 / 3.0;
  const double median = plane_median(lum, static_cast<int64_t>(h) * w);
  const int low = static_cast<int>(std::max(0.0, (1.0 - sigma) * median));
  const int high = static_cast<int>(std::min(255.0, (1.0 + sigma) * median));
  canny.run(lum, h, w, low, high, dst);
  dilate_box(dst, h, w, k, tmp);
}

void edges_frames(const uint8_t* lum, int64_t lum_stride, int64_t f, int h, int w, int k, uint8_t* dst) {
  // Canny costs ~20x an HSV pass per pixel, so edges go parallel 20x sooner.
#pragma omp parallel if (f * h * w * 20 > kScenesParallelMinPixels)
  {
    Canny canny;
    std::vector<uint8_t> tmp;
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < f; ++i)
      detect_edges(lum + i * lum_stride, h, w, k, dst + i * static_cast<int64_t>(h) * w, canny, tmp);
  }
}

VF_CLONES int64_t abs_diff_sum(const uint8_t* a, const uint8_t* b, int64_t n) {
  int64_t total = 0;
  constexpr int64_t kChunk = 1 << 16;  // int32 partial sums cannot overflow (255 * 2^16 < 2^31)
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t end = std::min(n, start + kChunk);
    int32_t part = 0;
    for (int64_t i = start; i < end; ++i) part += std::abs(static_cast<int>(a[i]) - static_cast<int>(b[i]));
    total += part;
  }
  return total;
}

void hsv_frames(const uint8_t* const* srcs, int64_t f, int64_t h, int64_t w, uint8_t* planes) {
  const SceneHsvTables& t = scene_hsv_tables();
  const int64_t p = h * w;
#pragma omp parallel for schedule(static) if (f * p > kScenesParallelMinPixels)
  for (int64_t r = 0; r < f * h; ++r) {
    const int64_t i = r / h, y = r % h;
    uint8_t* base = planes + i * 3 * p + y * w;
    hsv_planar_row(srcs[i] + y * w * 3, static_cast<int>(w), base, base + p, base + 2 * p, t.sdiv.data(),
                   t.hdiv.data());
  }
}

void scores_from_planes(const uint8_t* planes, const uint8_t* edges, int64_t f, int64_t n, int64_t p,
                        double* out) {
  const int64_t first = f - n;  // 1 when a previous frame leads the scratch, else 0
#pragma omp parallel for schedule(static) if (n * p > kScenesParallelMinPixels)
  for (int64_t i = 0; i < n; ++i) {
    double* row = out + i * kScoreComponents;
    const int64_t cur = first + i;
    if (cur == 0) { for (int c = 0; c < kScoreComponents; ++c) row[c] = 0.0; continue; }
    const double npix = static_cast<double>(p);
    for (int c = 0; c < 3; ++c)
      row[c] = static_cast<double>(abs_diff_sum(planes + (cur * 3 + c) * p, planes + ((cur - 1) * 3 + c) * p, p)) / npix;
    row[3] = edges ? static_cast<double>(abs_diff_sum(edges + cur * p, edges + (cur - 1) * p, p)) / npix : 0.0;
  }
}


// ---- fused yuv420p -> small BGR (FFmpeg x86 yuv2rgb + cv2.resize), see scenes.h ----

struct YuvCoefs {
  int yc, ub, vr, ug, vg;
};

// FFmpeg's roundToInt16(table * 2^13 / 2^16) for the SIMD coefficients; negative ones are negated first.
int round_to_int16(int64_t f) { return static_cast<int>((f + (1 << 15)) >> 16); }

YuvCoefs yuv_coefs(const std::array<int64_t, 4>& t) {
  const int64_t cy = (int64_t{1} << 16) * 255 / 219;  // limited-range luma gain, 16.16
  return {round_to_int16(cy * 8192), round_to_int16(t[1] * 8192), round_to_int16(t[0] * 8192),
          round_to_int16(-t[2] * 8192), round_to_int16(-t[3] * 8192)};
}

inline int mulhi16(int a, int b) { return (a * b) >> 16; }  // pmulhw
inline int clip_u8(int v) { return v < 0 ? 0 : (v > 255 ? 255 : v); }

struct Planes {
  const uint8_t *y, *u, *v;
  int64_t ys, us, vs;  // row strides in bytes
};

inline void yuv_bgr(const Planes& p, const YuvCoefs& c, int64_t row, int64_t col, int out[3]) {
  const int yt = mulhi16(p.y[row * p.ys + col] * 8 - 128, c.yc);
  const int u = (p.u[(row >> 1) * p.us + (col >> 1)] - 128) * 8;
  const int v = (p.v[(row >> 1) * p.vs + (col >> 1)] - 128) * 8;
  out[0] = clip_u8(yt + mulhi16(u, c.ub));
  out[1] = clip_u8(yt + mulhi16(u, c.ug) + mulhi16(v, c.vg));
  out[2] = clip_u8(yt + mulhi16(v, c.vr));
}

struct Taps {  // cv::resize INTER_LINEAR coordinate tables (11-bit fixed-point weights)
  std::vector<int> i0, i1, w0, w1;
};

Taps linear_taps(int64_t src, int64_t dst) {
  Taps t;
  const double scale = 1.0 / (static_cast<double>(dst) / static_cast<double>(src));
  for (int64_t d = 0; d < dst; ++d) {
    float f = static_cast<float>((d + 0.5) * scale - 0.5);
    int s = static_cast<int>(std::floor(f));
    f -= static_cast<float>(s);
    if (s < 0) { s = 0; f = 0.f; }
    if (s >= src - 1) { s = static_cast<int>(src - 1); f = 0.f; }
    t.i0.push_back(s);
    t.i1.push_back(static_cast<int>(std::min<int64_t>(s + 1, src - 1)));
    t.w0.push_back(static_cast<int>(std::nearbyint((1.f - f) * 2048.f)));
    t.w1.push_back(static_cast<int>(std::nearbyint(f * 2048.f)));
  }
  return t;
}

// One source row to planar B, G, R (int16): FFmpeg's x86 yuv2rgb arithmetic (pmulhw on 16-bit
// lanes), 16 pixels per SSE2 step, scalar tail with the same formula.
void convert_row(const Planes& p, const YuvCoefs& c, int64_t row, int64_t w, int32_t* b, int32_t* g, int32_t* r) {
  const uint8_t* yr = p.y + row * p.ys;
  const uint8_t* ur = p.u + (row >> 1) * p.us;
  const uint8_t* vr = p.v + (row >> 1) * p.vs;
  int64_t x = 0;
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128(), c128 = _mm_set1_epi16(128), hi = _mm_set1_epi16(255);
  const __m128i yc = _mm_set1_epi16(static_cast<int16_t>(c.yc)), ub = _mm_set1_epi16(static_cast<int16_t>(c.ub));
  const __m128i ug = _mm_set1_epi16(static_cast<int16_t>(c.ug)), vg = _mm_set1_epi16(static_cast<int16_t>(c.vg));
  const __m128i vrc = _mm_set1_epi16(static_cast<int16_t>(c.vr));
  for (; x + 16 <= w; x += 16) {
    const __m128i y8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(yr + x));
    const __m128i u16 = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(ur + x / 2)), zero);
    const __m128i v16 = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(vr + x / 2)), zero);
    const __m128i u = _mm_slli_epi16(_mm_sub_epi16(u16, c128), 3), v = _mm_slli_epi16(_mm_sub_epi16(v16, c128), 3);
    const __m128i bu = _mm_mulhi_epi16(u, ub), rv = _mm_mulhi_epi16(v, vrc);
    const __m128i gu = _mm_add_epi16(_mm_mulhi_epi16(u, ug), _mm_mulhi_epi16(v, vg));
    const __m128i terms[3] = {bu, gu, rv};
    int32_t* dst[3] = {b, g, r};
    for (int half = 0; half < 2; ++half) {
      const __m128i y16 = half ? _mm_unpackhi_epi8(y8, zero) : _mm_unpacklo_epi8(y8, zero);
      const __m128i yt = _mm_mulhi_epi16(_mm_sub_epi16(_mm_slli_epi16(y16, 3), c128), yc);
      for (int k = 0; k < 3; ++k) {
        const __m128i t = half ? _mm_unpackhi_epi16(terms[k], terms[k]) : _mm_unpacklo_epi16(terms[k], terms[k]);
        const __m128i val = _mm_min_epi16(_mm_max_epi16(_mm_add_epi16(yt, t), zero), hi);  // 0..255
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst[k] + x + 8 * half), _mm_unpacklo_epi16(val, zero));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst[k] + x + 8 * half + 4), _mm_unpackhi_epi16(val, zero));
      }
    }
  }
#endif
  for (; x < w; ++x) {
    int px[3];
    yuv_bgr(p, c, row, x, px);
    b[x] = px[0]; g[x] = px[1]; r[x] = px[2];
  }
}

// Horizontal taps of all three channels from a row packed as B | G << 8 | R << 16 (one gather per
// tap instead of three): dst[k * n + x] = ch_k(src[i0]) * w0 + ch_k(src[i1]) * w1.
VF_CLONES void gather_taps(const int32_t* __restrict src, const int* __restrict i0, const int* __restrict i1,
                           const int* __restrict w0, const int* __restrict w1, int n, int32_t* __restrict dst) {
  for (int x = 0; x < n; ++x) {
    const int32_t a = src[i0[x]], b = src[i1[x]];
    dst[x] = (a & 255) * w0[x] + (b & 255) * w1[x];
    dst[n + x] = ((a >> 8) & 255) * w0[x] + ((b >> 8) & 255) * w1[x];
    dst[2 * n + x] = (a >> 16) * w0[x] + (b >> 16) * w1[x];
  }
}

// One horizontally filtered source row (int, x 2048) at the output columns, planar [3][ow].
void hrow(const Planes& p, const YuvCoefs& c, const Taps& tx, int64_t row, int64_t w, std::vector<int32_t>& rgb,
          int32_t* dst) {
  rgb.resize(4 * w);
  int32_t *b = rgb.data(), *g = b + w, *r = g + w, *packed = r + w;
  convert_row(p, c, row, w, b, g, r);
  for (int64_t x = 0; x < w; ++x) packed[x] = b[x] | (g[x] << 8) | (r[x] << 16);
  gather_taps(packed, tx.i0.data(), tx.i1.data(), tx.w0.data(), tx.w1.data(), static_cast<int>(tx.i0.size()), dst);
}

// OpenCV's SIMD vertical pass (VResizeLinearVec_32s8u): 16-bit mulhi of (S >> 4), then (+2) >> 2.
VF_CLONES void vblend(const int32_t* __restrict r0, const int32_t* __restrict r1, int b0, int b1, int n,
                      uint8_t* __restrict dst) {
  for (int x = 0; x < n; ++x) {
    const int v = (mulhi16(r0[x] >> 4, b0) + mulhi16(r1[x] >> 4, b1) + 2) >> 2;
    dst[x] = static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
  }
}

void small_bgr_linear(const Planes& p, const YuvCoefs& c, int64_t w, int64_t h, int64_t ow, int64_t oh,
                      uint8_t* out) {
  const Taps tx = linear_taps(w, ow), ty = linear_taps(h, oh);
  std::vector<int32_t> r0(ow * 3), r1(ow * 3), scratch;
  std::vector<uint8_t> planar(ow * 3);
  int64_t have0 = -1, have1 = -1;
  for (int64_t dy = 0; dy < oh; ++dy) {
    const int64_t s0 = ty.i0[dy], s1 = ty.i1[dy];
    if (have0 != s0) {
      if (have1 == s0) { std::swap(r0, r1); std::swap(have0, have1); }
      else { hrow(p, c, tx, s0, w, scratch, r0.data()); have0 = s0; }
    }
    if (have1 != s1) { hrow(p, c, tx, s1, w, scratch, r1.data()); have1 = s1; }
    vblend(r0.data(), r1.data(), ty.w0[dy], ty.w1[dy], static_cast<int>(ow * 3), planar.data());
    uint8_t* o = out + dy * ow * 3;
    for (int64_t x = 0; x < ow; ++x) {
      o[3 * x] = planar[x]; o[3 * x + 1] = planar[ow + x]; o[3 * x + 2] = planar[2 * ow + x];
    }
  }
}

// cv::resize turns INTER_LINEAR with both scales exactly 2 into the 2x2 area average.
void small_bgr_area2(const Planes& p, const YuvCoefs& c, int64_t w, int64_t ow, int64_t oh, uint8_t* out) {
  std::vector<int32_t> rows(6 * w);
  int32_t* top[3] = {rows.data(), rows.data() + w, rows.data() + 2 * w};
  int32_t* bot[3] = {rows.data() + 3 * w, rows.data() + 4 * w, rows.data() + 5 * w};
  for (int64_t dy = 0; dy < oh; ++dy) {
    convert_row(p, c, 2 * dy, w, top[0], top[1], top[2]);
    convert_row(p, c, 2 * dy + 1, w, bot[0], bot[1], bot[2]);
    uint8_t* o = out + dy * ow * 3;
    for (int k = 0; k < 3; ++k)
      for (int64_t x = 0; x < ow; ++x)
        o[3 * x + k] = static_cast<uint8_t>((top[k][2 * x] + top[k][2 * x + 1] + bot[k][2 * x] + bot[k][2 * x + 1] + 2) >> 2);
  }
}


// ---- AVX2 path of the fused conversion ----
//
// Same integers as convert_row + gather_taps + vblend (and the area2 sums), computed only at the
// source pixels the horizontal taps read: for every output column the pair (i0, i0 + 1) of Y bytes
// and their two chroma bytes are shuffled out of 16-, 8- or 4-byte windows (HPlan), converted with
// FFmpeg's 16-bit arithmetic as 16 lanes = 8 output columns x 2 taps, and tapped with one pmaddwd
// per channel. Two source rows sharing a chroma row are converted in one pass. Rows are kept as
// int16 (the value OpenCV's vertical pass feeds to its 16-bit multiply: S >> 4, or the 2x2 pair
// sums), blended vertically 16 columns at a time and interleaved to BGR with pshufb. Tap tables
// and row buffers live in a per-thread plan rebuilt only when the frame geometry changes.

bool cpu_has_avx2() {
#if VF_HAVE_AVX2_PATH
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

std::atomic<bool>& simd_enabled() {
  static std::atomic<bool> on{cpu_has_avx2()};
  return on;
}

#if VF_HAVE_AVX2_PATH
// Horizontal plan for one (w, ow, mode): blocks of 8 output columns, padded to an even count.
// Each 128-bit lane of a block holds 4 output columns; their source bytes come from windows of
// 4 * group bytes, one window per `group` columns (group 4: one 16-byte load per lane; 2: two
// 8-byte loads; 1: four 4-byte loads). The largest group whose windows hold every tap is used.
struct HPlan {
  int64_t w = -1, ow = -1;
  bool area = false;  // 2x2 area sums (weights 1, 1, no shift) instead of INTER_LINEAR
  int group = 4;      // output columns per window: 4, 2 or 1
  int64_t blocks = 0;                 // multiple of 2
  std::vector<int32_t> yoff, coff;    // [blocks * 8 / group] window starts in the Y / chroma row
  std::vector<uint8_t> yshuf, cshuf;  // [blocks * 32] pshufb controls -> (tap0, tap1) int16 pairs
  std::vector<int16_t> wts;           // [blocks * 16] (w0, w1) pairs
};

// Builds the plan; false when the row is too narrow for the vector loads (then the scalar path runs).
bool build_hplan(int64_t w, int64_t ow, bool area, HPlan& hp) {
  const int64_t cw = (w + 1) / 2;
  if (w < 8 || cw < 4) return false;
  std::vector<int> i0(ow), w0(ow), w1(ow);
  if (area) {
    for (int64_t x = 0; x < ow; ++x) { i0[x] = static_cast<int>(2 * x); w0[x] = w1[x] = 1; }
  } else {
    const Taps t = linear_taps(w, ow);
    for (int64_t x = 0; x < ow; ++x) {
      i0[x] = t.i0[x]; w0[x] = t.w0[x]; w1[x] = t.w1[x];
      if (t.i1[x] != t.i0[x] + 1) {
        // Clamped at the right edge (i0 = i1 = w - 1, weights 2048 / 0): the same value as taps
        // (w - 2, w - 1) with weights (0, 2048).
        if (t.i0[x] != w - 1 || t.i1[x] != w - 1 || t.w1[x] != 0) return false;
        i0[x] = static_cast<int>(w - 2); w0[x] = 0; w1[x] = t.w0[x];
      }
    }
  }
  hp.w = w; hp.ow = ow; hp.area = area;
  hp.blocks = ((ow + 15) / 16) * 2;
  const int64_t n = hp.blocks * 8;
  std::vector<int> j0(n), ww0(n, 0), ww1(n, 0);  // padding columns repeat the last tap, weight 0
  for (int64_t x = 0; x < n; ++x) {
    const int64_t s = std::min(x, ow - 1);
    j0[x] = i0[s];
    if (x < ow) { ww0[x] = w0[x]; ww1[x] = w1[x]; }
  }
  auto fits = [&](int g) {  // every window of g columns holds its taps (Y and chroma)
    const int win = 4 * g;
    if (w < win || cw < win) return false;
    for (int64_t k = 0; k < n / g; ++k) {
      int mn = j0[g * k], mx = j0[g * k] + 1;
      for (int e = 0; e < g; ++e) { mn = std::min(mn, j0[g * k + e]); mx = std::max(mx, j0[g * k + e] + 1); }
      if (mx - mn > win - 1 || (mx >> 1) - (mn >> 1) > win - 1) return false;
    }
    return true;
  };
  const int g = fits(4) ? 4 : (fits(2) ? 2 : 1);
  if (g == 1 && !fits(1)) return false;  // cannot happen: w >= 8, taps (i0, i0 + 1)
  const int win = 4 * g;
  hp.group = g;
  hp.yoff.assign(n / g, 0);
  hp.coff.assign(n / g, 0);
  for (int64_t k = 0; k < n / g; ++k) {
    int mn = j0[g * k];
    for (int e = 0; e < g; ++e) mn = std::min(mn, j0[g * k + e]);
    hp.yoff[k] = static_cast<int32_t>(std::min<int64_t>(mn, w - win));
    hp.coff[k] = static_cast<int32_t>(std::min<int64_t>(mn >> 1, cw - win));
  }
  hp.yshuf.assign(n * 4, 0x80);
  hp.cshuf.assign(n * 4, 0x80);
  hp.wts.assign(n * 2, 0);
  for (int64_t x = 0; x < n; ++x) {
    const int pos = static_cast<int>((x % 4) / g) * win;  // lane byte where this column's window starts
    const int yb = hp.yoff[x / g] - pos, cb = hp.coff[x / g] - pos;  // row byte of lane byte 0
    const int a = j0[x], b = j0[x] + 1;
    uint8_t* ys = hp.yshuf.data() + 4 * x;
    uint8_t* cs = hp.cshuf.data() + 4 * x;
    const int ctl[4] = {a - yb, b - yb, (a >> 1) - cb, (b >> 1) - cb};
    for (int q = 0; q < 4; ++q)
      if (ctl[q] < pos || ctl[q] >= pos + win) return false;  // cannot happen: checked by fits()
    ys[0] = static_cast<uint8_t>(ctl[0]); ys[2] = static_cast<uint8_t>(ctl[1]);
    cs[0] = static_cast<uint8_t>(ctl[2]); cs[2] = static_cast<uint8_t>(ctl[3]);
    hp.wts[2 * x] = static_cast<int16_t>(ww0[x]);
    hp.wts[2 * x + 1] = static_cast<int16_t>(ww1[x]);
  }
  return true;
}

// Everything one thread needs for one frame geometry, rebuilt only when the geometry changes.
struct SmallBgrPlan {
  int64_t w = -1, h = -1, ow = -1, oh = -1;
  bool ok = false, area = false;
  HPlan hp;
  Taps ty;
  std::vector<int16_t> rows;  // two hrow buffers [3][blocks * 8]
};

#define VF_AVX2 __attribute__((target("avx2")))

VF_AVX2 inline __m256i load2x128(const uint8_t* lo, const uint8_t* hi) {
  return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lo))),
                                 _mm_loadu_si128(reinterpret_cast<const __m128i*>(hi)), 1);
}

inline int32_t load32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Four 8-byte loads -> one block (two per 128-bit lane).
VF_AVX2 inline __m256i load4x64(const uint8_t* base, const int32_t* off) {
  auto half = [](const uint8_t* p0, const uint8_t* p1) {
    return _mm_castpd_si128(_mm_loadh_pd(_mm_castsi128_pd(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p0))),
                                         reinterpret_cast<const double*>(p1)));
  };
  return _mm256_inserti128_si256(_mm256_castsi128_si256(half(base + off[0], base + off[1])),
                                 half(base + off[2], base + off[3]), 1);
}

template <int kGroup>
VF_AVX2 inline __m256i load_block(const uint8_t* base, const int32_t* off, int64_t b);

// Eight unaligned 4-byte loads (what vpgatherdd does, but cheaper on AMD Zen).
VF_AVX2 inline __m256i load8x32(const uint8_t* base, const int32_t* off) {
  const __m128i lo = _mm_insert_epi32(_mm_insert_epi32(_mm_insert_epi32(_mm_cvtsi32_si128(load32(base + off[0])),
                                                                          load32(base + off[1]), 1),
                                                         load32(base + off[2]), 2),
                                        load32(base + off[3]), 3);
  const __m128i hi = _mm_insert_epi32(_mm_insert_epi32(_mm_insert_epi32(_mm_cvtsi32_si128(load32(base + off[4])),
                                                                          load32(base + off[5]), 1),
                                                         load32(base + off[6]), 2),
                                        load32(base + off[7]), 3);
  return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

// kRows = 2: two source rows that share a chroma row (row >> 1), chroma terms computed once.
template <>
VF_AVX2 inline __m256i load_block<4>(const uint8_t* base, const int32_t* off, int64_t b) {
  return load2x128(base + off[2 * b], base + off[2 * b + 1]);
}
template <>
VF_AVX2 inline __m256i load_block<2>(const uint8_t* base, const int32_t* off, int64_t b) {
  return load4x64(base, off + 4 * b);
}
template <>
VF_AVX2 inline __m256i load_block<1>(const uint8_t* base, const int32_t* off, int64_t b) {
  return load8x32(base, off + 8 * b);
}

template <int kGroup, bool kArea, int kRows>
VF_AVX2 void hrow_avx2(const uint8_t* yr0, const uint8_t* yr1, const uint8_t* ur, const uint8_t* vr, const HPlan& hp,
                       const YuvCoefs& c, int16_t* dst0, int16_t* dst1) {
  const int64_t stride = hp.blocks * 8;
  const __m256i zero = _mm256_setzero_si256(), c128 = _mm256_set1_epi16(128), hi = _mm256_set1_epi16(255);
  const __m256i yc = _mm256_set1_epi16(static_cast<int16_t>(c.yc)), ub = _mm256_set1_epi16(static_cast<int16_t>(c.ub));
  const __m256i ug = _mm256_set1_epi16(static_cast<int16_t>(c.ug)), vg = _mm256_set1_epi16(static_cast<int16_t>(c.vg));
  const __m256i vrc = _mm256_set1_epi16(static_cast<int16_t>(c.vr));
  const int32_t* yoff = hp.yoff.data();
  const int32_t* coff = hp.coff.data();
  const uint8_t* ysh = hp.yshuf.data();
  const uint8_t* csh = hp.cshuf.data();
  const int16_t* wts = hp.wts.data();
  for (int64_t blk = 0; blk < hp.blocks; blk += 2) {
    __m256i tb[2], tg[2], tr[2];  // per-tap chroma terms: B, G, R minus the luma term
    for (int k = 0; k < 2; ++k) {
      const int64_t b = blk + k;
      const __m256i u8 = load_block<kGroup>(ur, coff, b), v8 = load_block<kGroup>(vr, coff, b);
      const __m256i cs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(csh + 32 * b));
      const __m256i u16 = _mm256_shuffle_epi8(u8, cs), v16 = _mm256_shuffle_epi8(v8, cs);
      const __m256i u = _mm256_slli_epi16(_mm256_sub_epi16(u16, c128), 3);
      const __m256i v = _mm256_slli_epi16(_mm256_sub_epi16(v16, c128), 3);
      tb[k] = _mm256_mulhi_epi16(u, ub);
      tg[k] = _mm256_add_epi16(_mm256_mulhi_epi16(u, ug), _mm256_mulhi_epi16(v, vg));
      tr[k] = _mm256_mulhi_epi16(v, vrc);
    }
    for (int row = 0; row < kRows; ++row) {
      const uint8_t* yr = row ? yr1 : yr0;
      int16_t* dst = row ? dst1 : dst0;
      __m256i acc[2][3];
      for (int k = 0; k < 2; ++k) {
        const int64_t b = blk + k;
        const __m256i y8 = load_block<kGroup>(yr, yoff, b);
        const __m256i y16 = _mm256_shuffle_epi8(y8, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ysh + 32 * b)));
        const __m256i yt = _mm256_mulhi_epi16(_mm256_sub_epi16(_mm256_slli_epi16(y16, 3), c128), yc);
        const __m256i bb = _mm256_min_epi16(_mm256_max_epi16(_mm256_add_epi16(yt, tb[k]), zero), hi);
        const __m256i gg = _mm256_min_epi16(_mm256_max_epi16(_mm256_add_epi16(yt, tg[k]), zero), hi);
        const __m256i rr = _mm256_min_epi16(_mm256_max_epi16(_mm256_add_epi16(yt, tr[k]), zero), hi);
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wts + 16 * b));
        acc[k][0] = _mm256_madd_epi16(bb, wv);
        acc[k][1] = _mm256_madd_epi16(gg, wv);
        acc[k][2] = _mm256_madd_epi16(rr, wv);
      }
      for (int ch = 0; ch < 3; ++ch) {
        __m256i a0 = acc[0][ch], a1 = acc[1][ch];
        if (!kArea) { a0 = _mm256_srai_epi32(a0, 4); a1 = _mm256_srai_epi32(a1, 4); }
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packs_epi32(a0, a1), 0xD8);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + ch * stride + blk * 8), packed);
      }
    }
  }
}

struct InterleaveMasks {
  alignas(16) uint8_t m[3][3][16];  // [output chunk][source channel][byte]
  InterleaveMasks() {
    for (int c = 0; c < 3; ++c)
      for (int s = 0; s < 3; ++s)
        for (int j = 0; j < 16; ++j) {
          const int k = 16 * c + j;
          m[c][s][j] = k % 3 == s ? static_cast<uint8_t>(k / 3) : 0x80;
        }
  }
};

const InterleaveMasks& interleave_masks() {
  static const InterleaveMasks masks;
  return masks;
}

// Vertical pass of one output row over planar int16 rows [3][stride] + BGR interleave into `o`.
template <bool kArea>
VF_AVX2 void vrow_avx2(const int16_t* r0, const int16_t* r1, int b0, int b1, int64_t stride, int64_t ow,
                       uint8_t* o) {
  const InterleaveMasks& im = interleave_masks();
  __m128i m[3][3];
  for (int c = 0; c < 3; ++c)
    for (int s = 0; s < 3; ++s) m[c][s] = _mm_load_si128(reinterpret_cast<const __m128i*>(im.m[c][s]));
  const __m256i wb0 = _mm256_set1_epi16(static_cast<int16_t>(b0)), wb1 = _mm256_set1_epi16(static_cast<int16_t>(b1));
  const __m256i two = _mm256_set1_epi16(2);
  for (int64_t x = 0; x < ow; x += 16) {
    __m256i val[3];
    for (int ch = 0; ch < 3; ++ch) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0 + ch * stride + x));
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r1 + ch * stride + x));
      const __m256i s = kArea ? _mm256_add_epi16(a, b)
                              : _mm256_add_epi16(_mm256_mulhi_epi16(a, wb0), _mm256_mulhi_epi16(b, wb1));
      val[ch] = _mm256_srai_epi16(_mm256_add_epi16(s, two), 2);
    }
    const __m256i bg = _mm256_permute4x64_epi64(_mm256_packus_epi16(val[0], val[1]), 0xD8);
    const __m256i rr = _mm256_permute4x64_epi64(_mm256_packus_epi16(val[2], val[2]), 0xD8);
    const __m128i pb = _mm256_castsi256_si128(bg), pg = _mm256_extracti128_si256(bg, 1), pr = _mm256_castsi256_si128(rr);
    __m128i chunk[3];
    for (int c = 0; c < 3; ++c)
      chunk[c] = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(pb, m[c][0]), _mm_shuffle_epi8(pg, m[c][1])),
                              _mm_shuffle_epi8(pr, m[c][2]));
    if (x + 16 <= ow) {
      for (int c = 0; c < 3; ++c) _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 3 * x + 16 * c), chunk[c]);
    } else {
      alignas(16) uint8_t tmp[48];
      for (int c = 0; c < 3; ++c) _mm_store_si128(reinterpret_cast<__m128i*>(tmp + 16 * c), chunk[c]);
      std::memcpy(o + 3 * x, tmp, static_cast<size_t>(3 * (ow - x)));
    }
  }
}

template <int kGroup, bool kArea>
VF_AVX2 void small_bgr_avx2_impl(const Planes& p, const YuvCoefs& c, SmallBgrPlan& pl, uint8_t* out) {
  const HPlan& hp = pl.hp;
  const int64_t stride = hp.blocks * 8;
  int16_t* r0 = pl.rows.data();
  int16_t* r1 = r0 + 3 * stride;
  auto hrow = [&](int64_t row, int16_t* dst) {
    hrow_avx2<kGroup, kArea, 1>(p.y + row * p.ys, nullptr, p.u + (row >> 1) * p.us, p.v + (row >> 1) * p.vs, hp, c,
                                 dst, nullptr);
  };
  auto hrow2 = [&](int64_t row, int16_t* dst0, int16_t* dst1) {  // rows `row`, `row + 1`; row even
    hrow_avx2<kGroup, kArea, 2>(p.y + row * p.ys, p.y + (row + 1) * p.ys, p.u + (row >> 1) * p.us,
                                 p.v + (row >> 1) * p.vs, hp, c, dst0, dst1);
  };
  if (kArea) {
    for (int64_t dy = 0; dy < pl.oh; ++dy) {
      hrow2(2 * dy, r0, r1);
      vrow_avx2<true>(r0, r1, 0, 0, stride, pl.ow, out + dy * pl.ow * 3);
    }
    return;
  }
  int64_t have0 = -1, have1 = -1;
  for (int64_t dy = 0; dy < pl.oh; ++dy) {
    const int64_t s0 = pl.ty.i0[dy], s1 = pl.ty.i1[dy];
    if (have0 != s0) {
      if (have1 == s0) {
        std::swap(r0, r1); std::swap(have0, have1);
      } else if (have1 != s1 && s1 == s0 + 1 && s0 % 2 == 0) {
        hrow2(s0, r0, r1); have0 = s0; have1 = s1;
      } else {
        hrow(s0, r0); have0 = s0;
      }
    }
    if (have1 != s1) { hrow(s1, r1); have1 = s1; }
    vrow_avx2<false>(r0, r1, pl.ty.w0[dy], pl.ty.w1[dy], stride, pl.ow, out + dy * pl.ow * 3);
  }
}

void small_bgr_avx2(const Planes& p, const YuvCoefs& c, SmallBgrPlan& pl, uint8_t* out) {
  const int g = pl.hp.group;
  if (pl.area) {
    if (g == 4) small_bgr_avx2_impl<4, true>(p, c, pl, out);
    else if (g == 2) small_bgr_avx2_impl<2, true>(p, c, pl, out);
    else small_bgr_avx2_impl<1, true>(p, c, pl, out);
  } else {
    if (g == 4) small_bgr_avx2_impl<4, false>(p, c, pl, out);
    else if (g == 2) small_bgr_avx2_impl<2, false>(p, c, pl, out);
    else small_bgr_avx2_impl<1, false>(p, c, pl, out);
  }
}
#endif  // VF_HAVE_AVX2_PATH


// ---- content_scores without edges: HSV of each frame compared row by row with the previous
// frame's HSV, kept in one per-thread buffer [h][3][w] (never a full [F][3][H*W] scratch) ----

#if VF_HAVE_AVX2_PATH
inline void hsv_px(int b, int g, int r, const int* sdiv, const int* hdiv, uint8_t& ho, uint8_t& so, uint8_t& vo) {
  constexpr int kRound = 1 << (kHsvShift - 1);
  int vmax = r > g ? r : g; vmax = vmax > b ? vmax : b;
  int vmin = r < g ? r : g; vmin = vmin < b ? vmin : b;
  const int diff = vmax - vmin;
  const int hh = vmax == r ? g - b : (vmax == g ? b - r + 2 * diff : r - g + 4 * diff);
  int hue = (hh * hdiv[diff] + kRound) >> kHsvShift;
  hue += hue < 0 ? 180 : 0;
  ho = static_cast<uint8_t>(hue);
  so = static_cast<uint8_t>((diff * sdiv[vmax] + kRound) >> kHsvShift);
  vo = static_cast<uint8_t>(vmax);
}

// Scalar row step (the AVX2 kernel's tail): HSV of `src` columns [x0, w) vs the prev row planes,
// which it overwrites.
void hsv_delta_row_scalar(const uint8_t* src, int64_t x0, int64_t w, uint8_t* ph, uint8_t* ps, uint8_t* pv,
                          const int* sdiv, const int* hdiv, int64_t sums[3]) {
  int64_t sh = 0, ss = 0, sv = 0;
  for (int64_t x = x0; x < w; ++x) {
    uint8_t h, s, v;
    hsv_px(src[3 * x], src[3 * x + 1], src[3 * x + 2], sdiv, hdiv, h, s, v);
    sh += std::abs(h - ph[x]); ss += std::abs(s - ps[x]); sv += std::abs(v - pv[x]);
    ph[x] = h; ps[x] = s; pv[x] = v;
  }
  sums[0] += sh; sums[1] += ss; sums[2] += sv;
}

struct DeinterleaveMasks {
  alignas(16) uint8_t m[3][3][16];  // [source chunk][channel][byte]
  DeinterleaveMasks() {
    for (int c = 0; c < 3; ++c)
      for (int s = 0; s < 3; ++s)
        for (int j = 0; j < 16; ++j) {
          const int k = 3 * j + s;  // byte of pixel j, channel s, within the 48 bytes
          m[c][s][j] = k / 16 == c ? static_cast<uint8_t>(k % 16) : 0x80;
        }
  }
};

const DeinterleaveMasks& deinterleave_masks() {
  static const DeinterleaveMasks masks;
  return masks;
}

VF_AVX2 inline __m256i widen8(__m256i v8, __m256i with, int half) {
  return half ? _mm256_unpackhi_epi8(v8, with) : _mm256_unpacklo_epi8(v8, with);
}

// OpenCV's reciprocal tables without table reads: rint(K / i) for i in 1..255 is the same integer
// when the quotient is an IEEE single division (correctly rounded) rounded to nearest even;
// hsv_tables_match_division() checks all 255 entries of both tables once before this path is used.
// i = 0 gives an out-of-range conversion (INT_MIN), but it is only ever multiplied by 0 there
// (diff = 0 makes the hue numerator and the saturation numerator 0).
constexpr float kSdivNum = static_cast<float>(255 << kHsvShift);
constexpr float kHdivNum = static_cast<float>((180 << kHsvShift) / 6);
static_assert((180 << kHsvShift) % 6 == 0, "hdiv numerator must be exact");

VF_AVX2 inline __m256i recip_table(__m256i i, float num) {
  const __m256 q = _mm256_div_ps(_mm256_set1_ps(num), _mm256_cvtepi32_ps(i));
  return _mm256_cvttps_epi32(_mm256_round_ps(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

bool hsv_tables_match_division() {
  const SceneHsvTables& t = scene_hsv_tables();
  for (int i = 1; i < 256; ++i) {
    const float s = std::nearbyint(kSdivNum / static_cast<float>(i)), h = std::nearbyint(kHdivNum / static_cast<float>(i));
    if (static_cast<int>(s) != t.sdiv[i] || static_cast<int>(h) != t.hdiv[i]) return false;
  }
  return true;
}

// hue (from the int16 numerator) and saturation of 8 pixels, int32 lanes.
template <bool kDivide>
VF_AVX2 inline void hsv_hs8(__m256i hh, __m256i diff, __m256i vmax, const int* sdiv, const int* hdiv, __m256i& hue,
                            __m256i& sat) {
  const __m256i round = _mm256_set1_epi32(1 << (kHsvShift - 1)), c180 = _mm256_set1_epi32(180);
  const __m256i hd = kDivide ? recip_table(diff, kHdivNum) : _mm256_i32gather_epi32(hdiv, diff, 4);
  const __m256i sd = kDivide ? recip_table(vmax, kSdivNum) : _mm256_i32gather_epi32(sdiv, vmax, 4);
  hue = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(hh, hd), round), kHsvShift);
  hue = _mm256_add_epi32(hue, _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), hue), c180));
  sat = _mm256_srli_epi32(_mm256_add_epi32(_mm256_mullo_epi32(diff, sd), round), kHsvShift);
}

// One row: 32 pixels per step (pixel order inside a step is permuted identically for every frame, so
// the stored planes and the |delta| sums are unaffected), scalar tail.
template <bool kDivide>
VF_AVX2 void hsv_delta_row_avx2(const uint8_t* src, int64_t w, uint8_t* ph, uint8_t* ps, uint8_t* pv,
                                const int* sdiv, const int* hdiv, int64_t sums[3]) {
  const DeinterleaveMasks& dm = deinterleave_masks();
  __m256i m[3][3];
  for (int c = 0; c < 3; ++c)
    for (int s = 0; s < 3; ++s) m[c][s] = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(dm.m[c][s])));
  const __m256i zero = _mm256_setzero_si256();
  __m256i acc[3] = {zero, zero, zero};
  int64_t x = 0;
  for (; x + 32 <= w; x += 32) {
    const uint8_t* s = src + 3 * x;
    const __m256i c0 = load2x128(s, s + 48), c1 = load2x128(s + 16, s + 64), c2 = load2x128(s + 32, s + 80);
    __m256i ch[3];
    for (int k = 0; k < 3; ++k)
      ch[k] = _mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(c0, m[0][k]), _mm256_shuffle_epi8(c1, m[1][k])),
                              _mm256_shuffle_epi8(c2, m[2][k]));
    const __m256i b = ch[0], g = ch[1], r = ch[2];
    const __m256i vmax = _mm256_max_epu8(_mm256_max_epu8(b, g), r);
    const __m256i vmin = _mm256_min_epu8(_mm256_min_epu8(b, g), r);
    const __m256i diff = _mm256_sub_epi8(vmax, vmin);
    const __m256i mr = _mm256_cmpeq_epi8(vmax, r), mg = _mm256_cmpeq_epi8(vmax, g);
    __m256i hs[2], ss[2];
    for (int half = 0; half < 2; ++half) {
      const __m256i b16 = widen8(b, zero, half), g16 = widen8(g, zero, half), r16 = widen8(r, zero, half);
      const __m256i d16 = widen8(diff, zero, half);
      const __m256i v16 = widen8(vmax, zero, half), mr16 = widen8(mr, mr, half), mg16 = widen8(mg, mg, half);
      const __m256i h1 = _mm256_sub_epi16(g16, b16);
      const __m256i h2 = _mm256_add_epi16(_mm256_sub_epi16(b16, r16), _mm256_slli_epi16(d16, 1));
      const __m256i h3 = _mm256_add_epi16(_mm256_sub_epi16(r16, g16), _mm256_slli_epi16(d16, 2));
      const __m256i hh = _mm256_blendv_epi8(_mm256_blendv_epi8(h3, h2, mg16), h1, mr16);
      __m256i hue[2], sat[2];
      for (int q = 0; q < 2; ++q) {
        const __m256i hh32 = q ? _mm256_srai_epi32(_mm256_unpackhi_epi16(hh, hh), 16)
                               : _mm256_srai_epi32(_mm256_unpacklo_epi16(hh, hh), 16);
        const __m256i d32 = q ? _mm256_unpackhi_epi16(d16, zero) : _mm256_unpacklo_epi16(d16, zero);
        const __m256i v32 = q ? _mm256_unpackhi_epi16(v16, zero) : _mm256_unpacklo_epi16(v16, zero);
        hsv_hs8<kDivide>(hh32, d32, v32, sdiv, hdiv, hue[q], sat[q]);
      }
      hs[half] = _mm256_packs_epi32(hue[0], hue[1]);
      ss[half] = _mm256_packs_epi32(sat[0], sat[1]);
    }
    const __m256i hue8 = _mm256_packus_epi16(hs[0], hs[1]), sat8 = _mm256_packus_epi16(ss[0], ss[1]);
    const __m256i cur[3] = {hue8, sat8, vmax};
    uint8_t* planes[3] = {ph, ps, pv};
    for (int k = 0; k < 3; ++k) {
      __m256i* pp = reinterpret_cast<__m256i*>(planes[k] + x);
      acc[k] = _mm256_add_epi64(acc[k], _mm256_sad_epu8(cur[k], _mm256_loadu_si256(pp)));
      _mm256_storeu_si256(pp, cur[k]);
    }
  }
  for (int k = 0; k < 3; ++k) {
    const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(acc[k]), _mm256_extracti128_si256(acc[k], 1));
    sums[k] += _mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1);
  }
  if (x < w) hsv_delta_row_scalar(src, x, w, ph, ps, pv, sdiv, hdiv, sums);
}
#endif  // VF_HAVE_AVX2_PATH

// Frames srcs[a - 1 .. b): the HSV of srcs[a - 1] primes the buffer, then out row (cur - first) gets
// the mean |delta| of frame cur for cur in [a, b).
void hsv_delta_frames(const uint8_t* const* srcs, int64_t a, int64_t b, int64_t first, int64_t h, int64_t w,
                      double* out) {
  const SceneHsvTables& t = scene_hsv_tables();
  thread_local std::vector<uint8_t> buf;
  thread_local std::vector<uint8_t> row;
  if (buf.size() < static_cast<size_t>(3 * h * w)) buf.resize(static_cast<size_t>(3 * h * w));
  if (row.size() < static_cast<size_t>(3 * w)) row.resize(static_cast<size_t>(3 * w));
  const bool simd = simd_enabled().load(std::memory_order_relaxed);
#if VF_HAVE_AVX2_PATH
  static const bool divide = hsv_tables_match_division();
#endif
  const double npix = static_cast<double>(h * w);
  for (int64_t cur = a - 1; cur < b; ++cur) {
    int64_t sums[3] = {0, 0, 0};
    for (int64_t y = 0; y < h; ++y) {
      const uint8_t* s = srcs[cur] + y * w * 3;
      uint8_t* ph = buf.data() + y * 3 * w;
#if VF_HAVE_AVX2_PATH
      if (simd) {
        if (divide) hsv_delta_row_avx2<true>(s, w, ph, ph + w, ph + 2 * w, t.sdiv.data(), t.hdiv.data(), sums);
        else hsv_delta_row_avx2<false>(s, w, ph, ph + w, ph + 2 * w, t.sdiv.data(), t.hdiv.data(), sums);
        continue;
      }
#endif
      (void)simd;
      // Portable: the (auto-vectorised, VF_CLONES) planar HSV row, then |delta| against the stored row.
      hsv_planar_row(s, static_cast<int>(w), row.data(), row.data() + w, row.data() + 2 * w, t.sdiv.data(),
                     t.hdiv.data());
      for (int c = 0; c < 3; ++c) sums[c] += abs_diff_sum(row.data() + c * w, ph + c * w, w);
      std::memcpy(ph, row.data(), static_cast<size_t>(3 * w));
    }
    if (cur >= a) {
      double* row = out + (cur - first) * kScoreComponents;
      for (int c = 0; c < 3; ++c) row[c] = static_cast<double>(sums[c]) / npix;
      row[3] = 0.0;
    }
  }
}

void hsv_delta_scores(const uint8_t* const* srcs, int64_t f, int64_t n, int64_t h, int64_t w, double* out) {
  const int64_t first = f - n;
  if (first == 0 && n > 0) for (int c = 0; c < kScoreComponents; ++c) out[c] = 0.0;
  const int64_t m = f - 1;  // frames with a predecessor: srcs[1 .. f)
  if (m <= 0) return;
  int64_t chunks = 1;
#if defined(_OPENMP)
  if (m * h * w > kScenesParallelMinPixels) chunks = std::min<int64_t>(m, omp_get_max_threads());
#endif
#pragma omp parallel for schedule(static, 1) if (chunks > 1)
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t a = 1 + m * k / chunks, b = 1 + m * (k + 1) / chunks;
    if (a < b) hsv_delta_frames(srcs, a, b, first, h, w, out);
  }
}

bool exact_half(int64_t src, int64_t dst) {
  const double scale = 1.0 / (static_cast<double>(dst) / static_cast<double>(src));
  return std::fabs(scale - 2.0) < 2.220446049250313e-16;
}

}  // namespace

void yuv420p_small_bgr_cpu(const pybind11::array& y, const pybind11::array& u, const pybind11::array& v,
                           int64_t width, int64_t height, pybind11::array& out, std::array<int64_t, 4> coeffs) {
  const char* op = "yuv420p_small_bgr";
  const auto ys = check_array<uint8_t, 2>(y, op, "y");
  const auto us = check_array<uint8_t, 2>(u, op, "u");
  const auto vs = check_array<uint8_t, 2>(v, op, "v");
  const auto os = check_array<uint8_t, 3>(out, op, "out");
  check_size(op, "width", width);
  check_size(op, "height", height);
  const int64_t cw = (width + 1) / 2, ch = (height + 1) / 2;
  if (ys[0] < height || ys[1] < width) fail(op, "y plane is smaller than height x width");
  if (us[0] < ch || us[1] < cw || vs[0] < ch || vs[1] < cw) fail(op, "u/v planes are smaller than the chroma size");
  if (os[2] != 3) fail(op, "out must be [oh, ow, 3]");
  if (!out.writeable()) fail(op, "out must be writable");
  const Planes p{static_cast<const uint8_t*>(y.data()), static_cast<const uint8_t*>(u.data()),
                 static_cast<const uint8_t*>(v.data()), ys[1], us[1], vs[1]};
  const YuvCoefs c = yuv_coefs(coeffs);
  uint8_t* o = static_cast<uint8_t*>(out.mutable_data());
  const int64_t oh = os[0], ow = os[1];
  py::gil_scoped_release nogil;
  const bool area = exact_half(width, ow) && exact_half(height, oh);
#if VF_HAVE_AVX2_PATH
  if (simd_enabled().load(std::memory_order_relaxed)) {
    thread_local SmallBgrPlan plan;
    if (plan.w != width || plan.h != height || plan.ow != ow || plan.oh != oh) {
      plan.w = width; plan.h = height; plan.ow = ow; plan.oh = oh; plan.area = area;
      plan.ok = build_hplan(width, ow, area, plan.hp);
      if (plan.ok) {
        if (!area) plan.ty = linear_taps(height, oh);
        plan.rows.assign(static_cast<size_t>(6 * plan.hp.blocks * 8), 0);
      }
    }
    if (plan.ok) { small_bgr_avx2(p, c, plan, o); return; }
  }
#endif
  if (area) small_bgr_area2(p, c, width, ow, oh, o);
  else small_bgr_linear(p, c, width, height, ow, oh, o);
}

namespace {
}  // namespace

pybind11::array content_scores_cpu(const pybind11::array& frames, const pybind11::object& prev, bool with_edges,
                                   int64_t kernel_size) {
  const auto s = check_array<uint8_t, 4>(frames, "content_scores", "frames");
  check_scenes_args(s[0], s[1], s[2], s[3], kernel_size);
  const int64_t n = s[0], h = s[1], w = s[2], p = h * w;
  std::vector<const uint8_t*> srcs;
  py::array prev_arr;
  if (!prev.is_none()) {
    prev_arr = py::array::ensure(prev);
    if (!prev_arr) fail("content_scores", "prev must be a numpy array or None");
    const auto ps = check_array<uint8_t, 3>(prev_arr, "content_scores", "prev");
    if (ps[0] != h || ps[1] != w || ps[2] != 3)
      fail("content_scores", "prev must have shape [H, W, 3] matching frames");
    srcs.push_back(static_cast<const uint8_t*>(prev_arr.data()));
  }
  const uint8_t* base = static_cast<const uint8_t*>(frames.data());
  for (int64_t i = 0; i < n; ++i) srcs.push_back(base + i * p * 3);
  const int64_t f = static_cast<int64_t>(srcs.size());
  const int k = kernel_size ? static_cast<int>(kernel_size) : scenes_kernel_size(w, h);
  auto out = empty_array<double>({n, kScoreComponents});
  double* out_ptr = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    if (!with_edges) {
      // Row-fused HSV + |delta| against the previous frame's HSV (no per-batch plane scratch).
      hsv_delta_scores(srcs.data(), f, n, h, w, out_ptr);
    } else {
      std::vector<uint8_t> planes(static_cast<size_t>(f * 3 * p));
      hsv_frames(srcs.data(), f, h, w, planes.data());
      std::vector<uint8_t> edges(static_cast<size_t>(f * p));
      if (f > 0)
        edges_frames(planes.data() + 2 * p, 3 * p, f, static_cast<int>(h), static_cast<int>(w), k, edges.data());
      scores_from_planes(planes.data(), edges.data(), f, n, p, out_ptr);
    }
  }
  return out;
}

pybind11::array scene_edges_cpu(const pybind11::array& lum, int64_t kernel_size) {
  const auto s = check_array<uint8_t, 3>(lum, "scene_edges", "lum");
  check_scenes_args(s[0], s[1], s[2], 3, kernel_size);
  const int k = kernel_size ? static_cast<int>(kernel_size) : scenes_kernel_size(s[2], s[1]);
  auto out = empty_array<uint8_t>({s[0], s[1], s[2]});
  const uint8_t* in_ptr = static_cast<const uint8_t*>(lum.data());
  uint8_t* out_ptr = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    edges_frames(in_ptr, s[1] * s[2], s[0], static_cast<int>(s[1]), static_cast<int>(s[2]), k, out_ptr);
  }
  return out;
}

void register_scenes(py::module_& m) {
  // uint8 [N,H,W,3] BGR (+ prev [H,W,3] | None) -> float64 [N,4] (hue, sat, lum, edges) mean |delta|.
  m.def("content_scores", &content_scores_cpu, py::arg("frames"), py::arg("prev") = py::none(),
        py::arg("with_edges") = false, py::arg("kernel_size") = 0);
  // uint8 [N,H,W] luma -> uint8 [N,H,W] dilated Canny edges (scenedetect ContentDetector semantics).
  m.def("scene_edges", &scene_edges_cpu, py::arg("lum"), py::arg("kernel_size") = 0);
  // yuv420p planes -> uint8 [oh,ow,3] BGR in `out`, as FFmpeg bgr24 + cv2.resize INTER_LINEAR would give.
  // Test hook: enable (when the CPU has AVX2) or disable the AVX2 kernels; returns the previous state.
  m.def("_scenes_set_simd", [](bool on) { return simd_enabled().exchange(on && cpu_has_avx2()); }, py::arg("on"));
  m.def("yuv420p_small_bgr", &yuv420p_small_bgr_cpu, py::arg("y"), py::arg("u"), py::arg("v"), py::arg("width"),
        py::arg("height"), py::arg("out"), py::arg("coeffs"));
#ifdef VIDFAST_WITH_CUDA
  // (frames_ptr, prev_ptr|0, out_sums_ptr int64 [n,3], n, h, w, stream): GPU |delta| sums of H, S, V.
  m.def("content_sums_cuda", &content_sums_cuda, py::arg("frames"), py::arg("prev"), py::arg("out_sums"),
        py::arg("n"), py::arg("h"), py::arg("w"), py::arg("stream") = 0);
#endif
}

}  // namespace vidfast
