// resize_u8: batched uint8 NHWC resize (C = 1 or 3) with OpenCV semantics.
//   bilinear: cv2.INTER_LINEAR  - half-pixel centres, edge clamp, 11-bit fixed-point weights.
//             Vertical pass first, kept in 16 bits: t = (s0 b0 + s1 b1 + 8) >> 4 (<= 32640);
//             then horizontal: (t0 a0 + t1 a1 + 2^17) >> 18 (OpenCV's SIMD path also drops 4 bits).
//   area:     cv2.INTER_AREA    - integer factors: block mean; other downscales: exact pixel-area
//             weights (float); any upscaled axis: OpenCV's area-linear weights on both axes.
// Results match cv2.resize within +-1 LSB (OpenCV's SIMD paths round a few values differently).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "common/checks.h"

namespace vidfast {

enum class Interp : int { kBilinear = 0, kArea = 1 };

inline Interp parse_interp(const std::string& name) {
  if (name == "bilinear" || name == "linear") return Interp::kBilinear;
  if (name == "area") return Interp::kArea;
  fail("resize_u8", "interpolation must be 'bilinear' or 'area', got '" + name + "'");
}

constexpr int kCoefBits = 11;
constexpr int kCoefOne = 1 << kCoefBits;  // 2048, OpenCV's INTER_RESIZE_COEF_SCALE
constexpr int kRowShift = 4;              // vertical intermediate: 2^11 * 255 >> 4 fits int16
constexpr int kHShift = 2 * kCoefBits - kRowShift;

// The vertical (int16-range) and horizontal fixed-point steps shared by every bilinear uint8 kernel.
VF_HOST_DEVICE int vblend(int s0, int s1, int b0, int b1) {
  return (s0 * b0 + s1 * b1 + (1 << (kRowShift - 1))) >> kRowShift;
}
VF_HOST_DEVICE int hblend(int t0, int t1, int a0, int a1) { return (t0 * a0 + t1 * a1 + (1 << (kHShift - 1))) >> kHShift; }

// OpenCV's scale: 1 / (dst / src), computed exactly as cv::resize does (matters in the last bit).
VF_HOST_DEVICE double resize_scale(int64_t src, int64_t dst) { return 1.0 / (static_cast<double>(dst) / src); }

// One output coordinate -> (first source index, its float weight fraction) for the 2-tap filters.
// area_mode selects OpenCV's INTER_AREA-upscale coefficients instead of half-pixel bilinear.
VF_HOST_DEVICE void linear_coord(int64_t d, double scale, int64_t src, bool area_mode, int* s0, float* frac) {
  int s;
  float f;
  if (!area_mode) {
    f = static_cast<float>((d + 0.5) * scale - 0.5);
    s = static_cast<int>(floorf(f));
    f -= static_cast<float>(s);
  } else {
    s = static_cast<int>(floor(d * scale));
    f = static_cast<float>((d + 1) - (s + 1) / scale);
    f = f <= 0.f ? 0.f : f - floorf(f);
  }
  if (s < 0) { s = 0; f = 0.f; }
  if (s >= src - 1) { s = static_cast<int>(src - 1); f = 0.f; }
  *s0 = s;
  *frac = f;
}

// Fixed-point pair (w0, w1), w0 + w1 == 2048, rounded like saturate_cast<short>(float).
VF_HOST_DEVICE void fixed_weights(float frac, int* w0, int* w1) {
  *w0 = static_cast<int>(rintf((1.f - frac) * kCoefOne));
  *w1 = static_cast<int>(rintf(frac * kCoefOne));
}

// INTER_AREA uses its area-weighted path only when no axis is upscaled.
VF_HOST_DEVICE bool area_downscale(int64_t h, int64_t w, int64_t oh, int64_t ow) {
  return resize_scale(w, ow) >= 1.0 && resize_scale(h, oh) >= 1.0;
}

// Integer factor along both axes (OpenCV's "area fast" path); 0 when not integer.
VF_HOST_DEVICE int integer_factor(int64_t src, int64_t dst) {
  double s = resize_scale(src, dst);
  int is = static_cast<int>(rint(s));
  return fabs(s - is) < 2.220446049250313e-16 ? is : 0;
}

// Source span [first, last] and weights of output cell d for the non-integer area filter:
// weight(i) = overlap of source pixel i with the cell / cell width (OpenCV computeResizeAreaTab).
struct AreaCell {
  int first, last;     // inclusive source range
  float w_first;       // weight of `first` (partial pixel, or full)
  float w_mid;         // weight of each interior pixel
  float w_last;        // weight of `last` (partial pixel)
  bool has_head, has_tail;
};

VF_HOST_DEVICE AreaCell area_cell(int64_t d, double scale, int64_t src) {
  double f1 = d * scale, f2 = f1 + scale;
  double cell = fmin(scale, static_cast<double>(src) - f1);
  int s1 = static_cast<int>(ceil(f1)), s2 = static_cast<int>(floor(f2));
  if (s2 > src - 1) s2 = static_cast<int>(src - 1);
  if (s1 > s2) s1 = s2;
  AreaCell c;
  c.has_head = s1 - f1 > 1e-3;
  c.has_tail = f2 - s2 > 1e-3;
  c.first = c.has_head ? s1 - 1 : s1;
  c.last = c.has_tail ? s2 : s2 - 1;
  c.w_first = static_cast<float>((s1 - f1) / cell);
  c.w_mid = static_cast<float>(1.0 / cell);
  c.w_last = static_cast<float>(fmin(fmin(f2 - s2, 1.0), cell) / cell);
  return c;
}

VF_HOST_DEVICE float area_weight(const AreaCell& c, int i) {
  if (c.has_head && i == c.first) return c.w_first;
  if (c.has_tail && i == c.last) return c.w_last;
  return c.w_mid;
}

inline void check_resize_args(int64_t n, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow) {
  check_size("resize_u8", "batch", n, 0);
  check_size("resize_u8", "height", h);
  check_size("resize_u8", "width", w);
  check_size("resize_u8", "out_h", oh);
  check_size("resize_u8", "out_w", ow);
  check_channels("resize_u8", c);
}

// CUDA: src/dst are device pointers to contiguous uint8 [n, h, w, c] / [n, oh, ow, c].
void resize_u8_cuda(uintptr_t src, uintptr_t dst, int64_t n, int64_t h, int64_t w, int64_t c, int64_t out_h,
                    int64_t out_w, const std::string& interpolation, uintptr_t stream);

}  // namespace vidfast

#ifndef __CUDACC__
#include <pybind11/numpy.h>
namespace vidfast {
// CPU: src uint8 [N, H, W, C] C-contiguous -> new uint8 [N, out_h, out_w, C]. Releases the GIL.
pybind11::array resize_u8_cpu(const pybind11::array& src, int64_t out_h, int64_t out_w,
                              const std::string& interpolation);
}  // namespace vidfast
#endif
