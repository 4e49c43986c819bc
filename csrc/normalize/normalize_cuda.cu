// normalize_to_chw_f32 CUDA kernel.
// Layout: src uint8 [N, H, W, C] (C in {1, 3}) -> dst float32 [N, C, OH, OW], device memory.
// Launch: 1-D grid-stride, one thread per output pixel, 256 threads per block; consecutive threads
// write consecutive floats of each output plane (coalesced). Float bilinear in the CPU kernel's
// operation order (vertical, then horizontal, then scale/bias); built with --fmad=false to match.
#include "common/cuda_utils.cuh"
#include "normalize/normalize.h"
#include "resize/resize.h"

namespace vidfast {
namespace {

struct NormShape { int64_t n, h, w, oh, ow; };
struct Affine { float scale[3], bias[3]; };

template <int C>
__global__ void normalize_kernel(const uint8_t* __restrict__ src, float* __restrict__ dst, NormShape s, Affine a) {
  const int64_t total = s.n * s.oh * s.ow, plane = s.oh * s.ow;
  const double sx = resize_scale(s.w, s.ow), sy = resize_scale(s.h, s.oh);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t x = i % s.ow, y = (i / s.ow) % s.oh, b = i / plane;
    int x0, y0;
    float fx, fy;
    linear_coord(x, sx, s.w, false, &x0, &fx);
    linear_coord(y, sy, s.h, false, &y0, &fy);
    const int x1 = min(x0 + 1, int(s.w - 1)), y1 = min(y0 + 1, int(s.h - 1));
    const uint8_t* r0 = src + (b * s.h + y0) * s.w * C;
    const uint8_t* r1 = src + (b * s.h + y1) * s.w * C;
    const float b0 = 1.f - fy, b1 = fy, w0 = 1.f - fx, w1 = fx;
    float* out = dst + b * C * plane + (i - b * plane);
#pragma unroll
    for (int k = 0; k < C; ++k) {
      const float t0 = float(r0[x0 * C + k]) * b0 + float(r1[x0 * C + k]) * b1;
      const float t1 = float(r0[x1 * C + k]) * b0 + float(r1[x1 * C + k]) * b1;
      out[k * plane] = (t0 * w0 + t1 * w1) * a.scale[k] + a.bias[k];
    }
  }
}

}  // namespace

void normalize_to_chw_f32_cuda(uintptr_t src, uintptr_t dst, int64_t n, int64_t h, int64_t w, int64_t c,
                               int64_t out_h, int64_t out_w, const std::vector<float>& mean,
                               const std::vector<float>& std, uintptr_t stream) {
  check_normalize_args(n, h, w, c, out_h, out_w, mean, std);
  check_ptr("normalize_to_chw_f32_cuda", "src", src);
  check_ptr("normalize_to_chw_f32_cuda", "dst", dst);
  Affine a{};
  for (int64_t k = 0; k < c; ++k) {
    a.scale[k] = 1.f / (255.f * std[k]);
    a.bias[k] = -mean[k] / std[k];
  }
  if (n == 0) return;
  const NormShape s{n, h, w, out_h, out_w};
  const int grid = grid_for(n * out_h * out_w);
  auto* in = reinterpret_cast<const uint8_t*>(src);
  auto* out = reinterpret_cast<float*>(dst);
  if (c == 3) normalize_kernel<3><<<grid, kThreads, 0, as_stream(stream)>>>(in, out, s, a);
  else normalize_kernel<1><<<grid, kThreads, 0, as_stream(stream)>>>(in, out, s, a);
  check_launch("normalize_to_chw_f32_cuda");
}

}  // namespace vidfast
