// yuv420p_to_rgb CUDA kernel.
// Layout: y [N, H, W], u/v [N, (H+1)/2, (W+1)/2] uint8 -> dst uint8 [N, OH, OW, 3], device memory.
// Launch: 1-D grid-stride, one thread per output pixel, 256 threads per block. With a resize each
// thread converts its 2x2 source neighbours to uint8 RGB, then blends them with resize_u8's 11-bit
// weights: bit-exact with the CPU kernel (convert at full resolution, then bilinear).
#include "common/cuda_utils.cuh"
#include "resize/resize.h"
#include "yuv/yuv.h"

namespace vidfast {
namespace {

struct YuvShape { int64_t n, h, w, oh, ow; };

__device__ __forceinline__ void rgb_at(const uint8_t* y, const uint8_t* u, const uint8_t* v, const YuvShape& s,
                                       int64_t b, int row, int col, const YuvCoeffs& k, uint8_t* rgb) {
  const int64_t ch = (s.h + 1) / 2, cw = (s.w + 1) / 2;
  const int64_t c = (b * ch + (row >> 1)) * cw + (col >> 1);
  yuv_pixel(y[(b * s.h + row) * s.w + col], u[c], v[c], k, rgb);
}

__global__ void yuv_kernel(const uint8_t* __restrict__ y, const uint8_t* __restrict__ u,
                           const uint8_t* __restrict__ v, uint8_t* __restrict__ dst, YuvShape s, YuvCoeffs k) {
  const int64_t total = s.n * s.oh * s.ow;
  const bool same = s.oh == s.h && s.ow == s.w;
  const double sx = resize_scale(s.w, s.ow), sy = resize_scale(s.h, s.oh);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t x = i % s.ow, yy = (i / s.ow) % s.oh, b = i / (s.ow * s.oh);
    if (same) { rgb_at(y, u, v, s, b, int(yy), int(x), k, dst + 3 * i); continue; }
    int x0, y0, a0, a1, b0, b1;
    float fx, fy;
    linear_coord(x, sx, s.w, false, &x0, &fx);
    linear_coord(yy, sy, s.h, false, &y0, &fy);
    fixed_weights(fx, &a0, &a1);
    fixed_weights(fy, &b0, &b1);
    const int x1 = min(x0 + 1, int(s.w - 1)), y1 = min(y0 + 1, int(s.h - 1));
    uint8_t p00[3], p01[3], p10[3], p11[3];
    rgb_at(y, u, v, s, b, y0, x0, k, p00);
    rgb_at(y, u, v, s, b, y0, x1, k, p01);
    rgb_at(y, u, v, s, b, y1, x0, k, p10);
    rgb_at(y, u, v, s, b, y1, x1, k, p11);
#pragma unroll
    for (int c = 0; c < 3; ++c) {
      const int t0 = vblend(p00[c], p10[c], b0, b1), t1 = vblend(p01[c], p11[c], b0, b1);
      dst[3 * i + c] = uint8_t(hblend(t0, t1, a0, a1));
    }
  }
}

}  // namespace

void yuv420p_to_rgb_cuda(uintptr_t y, uintptr_t u, uintptr_t v, uintptr_t dst, int64_t n, int64_t h, int64_t w,
                         int64_t out_h, int64_t out_w, const std::string& matrix, bool full_range, uintptr_t stream) {
  const int64_t oh = out_h > 0 ? out_h : h, ow = out_w > 0 ? out_w : w;
  check_yuv_args(n, h, w, (h + 1) / 2, (w + 1) / 2, oh, ow);
  for (auto [name, p] : {std::pair{"y", y}, {"u", u}, {"v", v}, {"dst", dst}}) check_ptr("yuv420p_to_rgb_cuda", name, p);
  const YuvCoeffs k = yuv_coeffs(matrix, full_range);
  const YuvShape s{n, h, w, oh, ow};
  if (n == 0) return;
  yuv_kernel<<<grid_for(n * oh * ow), kThreads, 0, as_stream(stream)>>>(
      reinterpret_cast<const uint8_t*>(y), reinterpret_cast<const uint8_t*>(u), reinterpret_cast<const uint8_t*>(v),
      reinterpret_cast<uint8_t*>(dst), s, k);
  check_launch("yuv420p_to_rgb_cuda");
}

}  // namespace vidfast
