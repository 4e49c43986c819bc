// content_scores CPU kernels.
// Layout: frames uint8 [N, H, W, 3] BGR (+ optional prev [H, W, 3]) -> scores float64 [N, 4].
// Work: (1) OpenCV 8-bit HSV into planar scratch [F][3][H*W], F = N (+1 with prev), OpenMP over
// the F*H rows; (2) optional Canny + dilation per frame, OpenMP over frames; (3) per-frame sums of
// |a - b| per plane in int64, OpenMP over frames. The GIL is released for all three.
#include "scenes/scenes.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
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
  if (exact_half(width, ow) && exact_half(height, oh)) small_bgr_area2(p, c, width, ow, oh, o);
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
    std::vector<uint8_t> planes(static_cast<size_t>(f * 3 * p));
    hsv_frames(srcs.data(), f, h, w, planes.data());
    std::vector<uint8_t> edges;
    if (with_edges && f > 0) {
      edges.resize(static_cast<size_t>(f * p));
      edges_frames(planes.data() + 2 * p, 3 * p, f, static_cast<int>(h), static_cast<int>(w), k, edges.data());
    }
    scores_from_planes(planes.data(), with_edges ? edges.data() : nullptr, f, n, p, out_ptr);
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
  m.def("yuv420p_small_bgr", &yuv420p_small_bgr_cpu, py::arg("y"), py::arg("u"), py::arg("v"), py::arg("width"),
        py::arg("height"), py::arg("out"), py::arg("coeffs"));
#ifdef VIDFAST_WITH_CUDA
  // (frames_ptr, prev_ptr|0, out_sums_ptr int64 [n,3], n, h, w, stream): GPU |delta| sums of H, S, V.
  m.def("content_sums_cuda", &content_sums_cuda, py::arg("frames"), py::arg("prev"), py::arg("out_sums"),
        py::arg("n"), py::arg("h"), py::arg("w"), py::arg("stream") = 0);
#endif
}

}  // namespace vidfast
