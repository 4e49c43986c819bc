// yuv420p_to_rgb: planar YUV 4:2:0 -> packed RGB uint8, optional fused bilinear resize.
//   y [N, H, W], u/v [N, ceil(H/2), ceil(W/2)] uint8 -> rgb [N, OH, OW, 3] uint8.
// Chroma is upsampled nearest (luma pixel (x, y) uses chroma (x/2, y/2)), as FFmpeg's unscaled
// swscale path and cv2.COLOR_YUV2RGB_I420 do. Matrix BT.601 or BT.709; limited (16-235/240) or full
// range. Arithmetic is 16-bit fixed point. With a resize, the result equals "convert at full
// resolution, then resize_u8 bilinear" bit for bit, but only the source rows a row needs are converted.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "common/checks.h"

namespace vidfast {

constexpr int kYuvShift = 16;

struct YuvCoeffs {
  int y_off;  // 16 (limited) or 0 (full)
  int cy, crv, cgu, cgv, cbu;  // fixed-point coefficients, scale 2^16
};

inline int to_fixed(double c) { return static_cast<int>(std::floor(c * 65536.0 + 0.5)); }

inline YuvCoeffs yuv_coeffs(const std::string& matrix, bool full_range) {
  double kr, kb;
  if (matrix == "bt601") { kr = 0.299; kb = 0.114; }
  else if (matrix == "bt709") { kr = 0.2126; kb = 0.0722; }
  else fail("yuv420p_to_rgb", "matrix must be 'bt601' or 'bt709', got '" + matrix + "'");
  const double kg = 1.0 - kr - kb;
  const double ys = full_range ? 1.0 : 255.0 / 219.0;
  const double cs = full_range ? 1.0 : 255.0 / 224.0;
  YuvCoeffs c;
  c.y_off = full_range ? 0 : 16;
  c.cy = to_fixed(ys);
  c.crv = to_fixed(2.0 * (1.0 - kr) * cs);
  c.cgu = to_fixed(2.0 * kb * (1.0 - kb) / kg * cs);
  c.cgv = to_fixed(2.0 * kr * (1.0 - kr) / kg * cs);
  c.cbu = to_fixed(2.0 * (1.0 - kb) * cs);
  return c;
}

VF_HOST_DEVICE uint8_t clamp_u8(int v) { return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); }

VF_HOST_DEVICE void yuv_pixel(int y, int u, int v, const YuvCoeffs& k, uint8_t* rgb) {
  const int round = 1 << (kYuvShift - 1);
  const int yy = (y - k.y_off) * k.cy + round;
  u -= 128;
  v -= 128;
  rgb[0] = clamp_u8((yy + k.crv * v) >> kYuvShift);
  rgb[1] = clamp_u8((yy - k.cgu * u - k.cgv * v) >> kYuvShift);
  rgb[2] = clamp_u8((yy + k.cbu * u) >> kYuvShift);
}

inline void check_yuv_args(int64_t n, int64_t h, int64_t w, int64_t ch, int64_t cw, int64_t oh, int64_t ow) {
  check_size("yuv420p_to_rgb", "height", h);
  check_size("yuv420p_to_rgb", "width", w);
  check_size("yuv420p_to_rgb", "out_h", oh);
  check_size("yuv420p_to_rgb", "out_w", ow);
  check_size("yuv420p_to_rgb", "batch", n, 0);
  if (ch != (h + 1) / 2 || cw != (w + 1) / 2)
    fail("yuv420p_to_rgb", "u/v planes must be [N, " + std::to_string((h + 1) / 2) + ", " + std::to_string((w + 1) / 2) +
                               "] for a " + std::to_string(h) + "x" + std::to_string(w) + " luma plane, got [N, " +
                               std::to_string(ch) + ", " + std::to_string(cw) + "]");
}

// CUDA: y [n,h,w], u/v [n,(h+1)/2,(w+1)/2], dst [n,out_h,out_w,3]; all device pointers.
void yuv420p_to_rgb_cuda(uintptr_t y, uintptr_t u, uintptr_t v, uintptr_t dst, int64_t n, int64_t h, int64_t w,
                         int64_t out_h, int64_t out_w, const std::string& matrix, bool full_range, uintptr_t stream);

}  // namespace vidfast

#ifndef __CUDACC__
#include <pybind11/numpy.h>
namespace vidfast {
// CPU: out_h/out_w <= 0 keeps the source size. Releases the GIL.
pybind11::array yuv420p_to_rgb_cpu(const pybind11::array& y, const pybind11::array& u, const pybind11::array& v,
                                   int64_t out_h, int64_t out_w, const std::string& matrix, bool full_range);
}  // namespace vidfast
#endif
