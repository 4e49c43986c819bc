// convert_color_u8 CUDA kernel.
// Layout: src uint8 [N, H, W, 3] -> dst uint8 [N, H, W, 3] (swap, hsv) or [N, H, W, 1] (gray).
// Launch: 1-D grid-stride, one thread per pixel, 256 threads per block. HSV reciprocal tables
// (256 ints each) are built once per block in shared memory from the same formulas as the CPU.
#include "color/color.h"
#include "common/cuda_utils.cuh"

namespace vidfast {
namespace {

__global__ void color_kernel(const uint8_t* __restrict__ src, uint8_t* __restrict__ dst, int64_t pixels,
                             ColorCode code) {
  __shared__ int sdiv[256], hdiv[256];
  const bool hsv = code == ColorCode::kRgbToHsv || code == ColorCode::kBgrToHsv;
  if (hsv) {
    for (int i = threadIdx.x; i < 256; i += blockDim.x) { sdiv[i] = hsv_sdiv(i); hdiv[i] = hsv_hdiv(i); }
    __syncthreads();
  }
  const bool bgr = code == ColorCode::kBgrToGray || code == ColorCode::kBgrToHsv;
  const int ri = bgr ? 2 : 0, bi = bgr ? 0 : 2;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < pixels; i += int64_t(blockDim.x) * gridDim.x) {
    const uint8_t* s = src + 3 * i;
    const uint8_t p0 = s[0], p1 = s[1], p2 = s[2];
    if (code == ColorCode::kSwapRB) {
      dst[3 * i] = p2; dst[3 * i + 1] = p1; dst[3 * i + 2] = p0;
    } else if (!hsv) {
      dst[i] = gray_u8(s[ri], p1, s[bi]);
    } else {
      hsv_u8(s[ri], p1, s[bi], sdiv, hdiv, dst + 3 * i);
    }
  }
}

}  // namespace

void convert_color_u8_cuda(uintptr_t src, uintptr_t dst, int64_t n, int64_t h, int64_t w, const std::string& code,
                           uintptr_t stream) {
  check_color_args(n, h, w, 3);
  check_ptr("convert_color_u8_cuda", "src", src);
  check_ptr("convert_color_u8_cuda", "dst", dst);
  const ColorCode cc = parse_color_code(code);
  const int64_t pixels = n * h * w;
  if (pixels == 0) return;
  color_kernel<<<grid_for(pixels), kThreads, 0, as_stream(stream)>>>(reinterpret_cast<const uint8_t*>(src),
                                                                     reinterpret_cast<uint8_t*>(dst), pixels, cc);
  check_launch("convert_color_u8_cuda");
}

}  // namespace vidfast
