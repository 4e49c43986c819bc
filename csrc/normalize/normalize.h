// normalize_to_chw_f32: model preprocessing in one pass.
//   src uint8 [N, H, W, C] -> dst float32 [N, C, OH, OW]
//   dst = (bilinear(src) / 255 - mean[c]) / std[c], computed as bilinear(src) * scale[c] + bias[c]
//   with scale = 1 / (255 std), bias = -mean / std. Bilinear uses resize_u8's coordinates
//   (half-pixel centres, edge clamp) with float weights and no intermediate rounding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/checks.h"

namespace vidfast {

inline void check_normalize_args(int64_t n, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow,
                                 const std::vector<float>& mean, const std::vector<float>& std) {
  const char* op = "normalize_to_chw_f32";
  check_size(op, "batch", n, 0);
  check_size(op, "height", h);
  check_size(op, "width", w);
  check_size(op, "out_h", oh);
  check_size(op, "out_w", ow);
  check_channels(op, c);
  if (static_cast<int64_t>(mean.size()) != c || static_cast<int64_t>(std.size()) != c)
    fail(op, "mean and std need one value per channel (" + std::to_string(c) + ")");
  for (float s : std)
    if (!(s > 0.f)) fail(op, "std values must be > 0");
}

// CUDA: src uint8 [n,h,w,c], dst float32 [n,c,out_h,out_w], device pointers; mean/std host values.
void normalize_to_chw_f32_cuda(uintptr_t src, uintptr_t dst, int64_t n, int64_t h, int64_t w, int64_t c,
                               int64_t out_h, int64_t out_w, const std::vector<float>& mean,
                               const std::vector<float>& std, uintptr_t stream);

}  // namespace vidfast

#ifndef __CUDACC__
#include <pybind11/numpy.h>
namespace vidfast {
// CPU: src uint8 [N,H,W,C] C-contiguous -> new float32 [N,C,out_h,out_w]. Releases the GIL.
pybind11::array normalize_to_chw_f32_cpu(const pybind11::array& src, int64_t out_h, int64_t out_w,
                                         const std::vector<float>& mean, const std::vector<float>& std);
}  // namespace vidfast
#endif
