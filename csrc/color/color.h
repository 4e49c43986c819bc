// convert_color_u8: batched uint8 colour conversions with OpenCV 8-bit semantics (bit-exact).
//   rgb2bgr / bgr2rgb : channel swap                      [N,H,W,3] -> [N,H,W,3]
//   rgb2gray/bgr2gray : (9798 R + 19235 G + 3735 B + 2^14) >> 15    -> [N,H,W,1]
//   rgb2hsv / bgr2hsv : H in [0,180), S,V in [0,255]; OpenCV's 12-bit reciprocal tables
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "common/checks.h"

namespace vidfast {

enum class ColorCode : int { kSwapRB = 0, kRgbToGray = 1, kBgrToGray = 2, kRgbToHsv = 3, kBgrToHsv = 4 };

inline ColorCode parse_color_code(const std::string& code) {
  if (code == "rgb2bgr" || code == "bgr2rgb") return ColorCode::kSwapRB;
  if (code == "rgb2gray") return ColorCode::kRgbToGray;
  if (code == "bgr2gray") return ColorCode::kBgrToGray;
  if (code == "rgb2hsv") return ColorCode::kRgbToHsv;
  if (code == "bgr2hsv") return ColorCode::kBgrToHsv;
  fail("convert_color_u8", "unknown code '" + code + "'; valid: rgb2bgr, bgr2rgb, rgb2gray, bgr2gray, rgb2hsv, bgr2hsv");
}

inline int color_out_channels(ColorCode code) {
  return (code == ColorCode::kRgbToGray || code == ColorCode::kBgrToGray) ? 1 : 3;
}

// OpenCV 4.x+ 8-bit gray: 15-bit coefficients (older releases used 4899/9617/1868 >> 14).
constexpr int kGrayR = 9798, kGrayG = 19235, kGrayB = 3735, kGrayShift = 15;
constexpr int kHsvShift = 12;

// OpenCV's reciprocal tables: sdiv[i] = round((255 << 12) / i), hdiv[i] = round((180 << 12) / (6 i)).
VF_HOST_DEVICE int hsv_sdiv(int i) { return i == 0 ? 0 : static_cast<int>(rint((255 << kHsvShift) / (1.0 * i))); }
VF_HOST_DEVICE int hsv_hdiv(int i) { return i == 0 ? 0 : static_cast<int>(rint((180 << kHsvShift) / (6.0 * i))); }

VF_HOST_DEVICE uint8_t gray_u8(int r, int g, int b) {
  return static_cast<uint8_t>((r * kGrayR + g * kGrayG + b * kGrayB + (1 << (kGrayShift - 1))) >> kGrayShift);
}

// One pixel to HSV, given the reciprocal of max (sdiv) and of max-min (hdiv) from the tables.
template <typename Tab>
VF_HOST_DEVICE void hsv_u8(int r, int g, int b, const Tab& sdiv, const Tab& hdiv, uint8_t* out) {
  int v = r > g ? r : g; v = v > b ? v : b;
  int vmin = r < g ? r : g; vmin = vmin < b ? vmin : b;
  const int diff = v - vmin;
  const int round = 1 << (kHsvShift - 1);
  const int s = (diff * sdiv[v] + round) >> kHsvShift;
  int h = v == r ? g - b : (v == g ? b - r + 2 * diff : r - g + 4 * diff);
  h = (h * hdiv[diff] + round) >> kHsvShift;
  h += h < 0 ? 180 : 0;
  out[0] = static_cast<uint8_t>(h);
  out[1] = static_cast<uint8_t>(s);
  out[2] = static_cast<uint8_t>(v);
}

inline void check_color_args(int64_t n, int64_t h, int64_t w, int64_t c) {
  check_size("convert_color_u8", "batch", n, 0);
  check_size("convert_color_u8", "height", h);
  check_size("convert_color_u8", "width", w);
  check_channels("convert_color_u8", c, /*allow_one=*/false);
}

// CUDA: src uint8 [n,h,w,3] and dst uint8 [n,h,w,color_out_channels(code)], device pointers.
void convert_color_u8_cuda(uintptr_t src, uintptr_t dst, int64_t n, int64_t h, int64_t w, const std::string& code,
                           uintptr_t stream);

}  // namespace vidfast

#ifndef __CUDACC__
#include <pybind11/numpy.h>
namespace vidfast {
// CPU: src uint8 [N,H,W,3] C-contiguous -> new uint8 [N,H,W,1 or 3]. Releases the GIL.
pybind11::array convert_color_u8_cpu(const pybind11::array& src, const std::string& code);
}  // namespace vidfast
#endif
