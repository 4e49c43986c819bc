// resize_u8 CUDA kernels.
// Layout: src uint8 [N, H, W, C] -> dst uint8 [N, OH, OW, C], contiguous device memory, C in {1, 3}.
// Launch: 1-D grid-stride, one thread per output pixel (all C channels), 256 threads per block;
// consecutive threads take consecutive x, so loads and stores of a warp are contiguous.
// Coordinates and weights come from resize.h (same functions as the CPU tables; built with
// --fmad=false so the double/float arithmetic matches the host bit for bit).
#include "common/cuda_utils.cuh"
#include "resize/resize.h"

namespace vidfast {
namespace {

struct Shape { int64_t n, h, w, c, oh, ow; };

__device__ __forceinline__ uint8_t clamp_u8_cuda(int v) { return uint8_t(v < 0 ? 0 : (v > 255 ? 255 : v)); }

template <int C>
__global__ void linear_kernel(const uint8_t* __restrict__ src, uint8_t* __restrict__ dst, Shape s,
                              double sx, double sy, bool area_mode) {
  const int64_t total = s.n * s.oh * s.ow;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t x = i % s.ow, y = (i / s.ow) % s.oh, b = i / (s.ow * s.oh);
    int x0, y0, a0, a1, b0, b1;
    float fx, fy;
    linear_coord(x, sx, s.w, area_mode, &x0, &fx);
    linear_coord(y, sy, s.h, area_mode, &y0, &fy);
    fixed_weights(fx, &a0, &a1);
    fixed_weights(fy, &b0, &b1);
    const int x1 = min(x0 + 1, int(s.w - 1)), y1 = min(y0 + 1, int(s.h - 1));
    const uint8_t* r0 = src + (b * s.h + y0) * s.w * C;
    const uint8_t* r1 = src + (b * s.h + y1) * s.w * C;
#pragma unroll
    for (int k = 0; k < C; ++k) {
      const int t0 = vblend(r0[x0 * C + k], r1[x0 * C + k], b0, b1);
      const int t1 = vblend(r0[x1 * C + k], r1[x1 * C + k], b0, b1);
      dst[i * C + k] = uint8_t(hblend(t0, t1, a0, a1));
    }
  }
}

template <int C>
__global__ void area_int_kernel(const uint8_t* __restrict__ src, uint8_t* __restrict__ dst, Shape s, int fy, int fx) {
  const int64_t total = s.n * s.oh * s.ow;
  const float inv_area = 1.f / float(fx * fy);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t x = i % s.ow, y = (i / s.ow) % s.oh, b = i / (s.ow * s.oh);
    int sum[C] = {};
    for (int j = 0; j < fy; ++j) {
      const uint8_t* row = src + ((b * s.h + y * fy + j) * s.w + x * fx) * C;
      for (int q = 0; q < fx * C; ++q) sum[q % C] += row[q];
    }
#pragma unroll
    for (int k = 0; k < C; ++k) dst[i * C + k] = clamp_u8_cuda(int(rintf(float(sum[k]) * inv_area)));
  }
}

template <int C>
__global__ void area_general_kernel(const uint8_t* __restrict__ src, uint8_t* __restrict__ dst, Shape s, double sx,
                                    double sy) {
  const int64_t total = s.n * s.oh * s.ow;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t x = i % s.ow, y = (i / s.ow) % s.oh, b = i / (s.ow * s.oh);
    const AreaCell cx = area_cell(x, sx, s.w), cy = area_cell(y, sy, s.h);
    // Vertical first (column sums over the cell's rows), then horizontal: the CPU kernel's order.
    float acc[C] = {};
    for (int xx = cx.first; xx <= cx.last; ++xx) {
      float col[C] = {};
      for (int yy = cy.first; yy <= cy.last; ++yy) {
        const float beta = area_weight(cy, yy);
        const uint8_t* px = src + ((b * s.h + yy) * s.w + xx) * C;
#pragma unroll
        for (int k = 0; k < C; ++k) col[k] += float(px[k]) * beta;
      }
      const float a = area_weight(cx, xx);
#pragma unroll
      for (int k = 0; k < C; ++k) acc[k] += col[k] * a;
    }
#pragma unroll
    for (int k = 0; k < C; ++k) dst[i * C + k] = clamp_u8_cuda(int(rintf(acc[k])));
  }
}

template <int C>
void launch(const uint8_t* src, uint8_t* dst, const Shape& s, Interp interp, cudaStream_t stream) {
  const int grid = grid_for(s.n * s.oh * s.ow);
  const double sx = resize_scale(s.w, s.ow), sy = resize_scale(s.h, s.oh);
  if (interp == Interp::kBilinear || !area_downscale(s.h, s.w, s.oh, s.ow)) {
    linear_kernel<C><<<grid, kThreads, 0, stream>>>(src, dst, s, sx, sy, interp == Interp::kArea);
    return;
  }
  const int fy = integer_factor(s.h, s.oh), fx = integer_factor(s.w, s.ow);
  if (fy > 0 && fx > 0) area_int_kernel<C><<<grid, kThreads, 0, stream>>>(src, dst, s, fy, fx);
  else area_general_kernel<C><<<grid, kThreads, 0, stream>>>(src, dst, s, sx, sy);
}

}  // namespace

void resize_u8_cuda(uintptr_t src, uintptr_t dst, int64_t n, int64_t h, int64_t w, int64_t c, int64_t out_h,
                    int64_t out_w, const std::string& interpolation, uintptr_t stream) {
  check_resize_args(n, h, w, c, out_h, out_w);
  check_ptr("resize_u8_cuda", "src", src);
  check_ptr("resize_u8_cuda", "dst", dst);
  const Interp interp = parse_interp(interpolation);
  if (n == 0) return;
  const Shape s{n, h, w, c, out_h, out_w};
  auto* in = reinterpret_cast<const uint8_t*>(src);
  auto* out = reinterpret_cast<uint8_t*>(dst);
  if (c == 3) launch<3>(in, out, s, interp, as_stream(stream));
  else launch<1>(in, out, s, interp, as_stream(stream));
  check_launch("resize_u8_cuda");
}

}  // namespace vidfast
