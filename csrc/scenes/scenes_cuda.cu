// content_sums CUDA kernel: per-frame sums of |delta| of OpenCV 8-bit H, S, V between consecutive
// frames of a batch already resident on the GPU.
//
// Shapes: frames uint8 [n, h, w, 3] BGR, contiguous; prev uint8 [h, w, 3] or null; out int64 [n, 3].
// Launch: grid (blocks_per_frame, n), 256 threads. Each block builds OpenCV's HSV reciprocal tables
// in shared memory, converts its pixels of frame i and of frame i-1 (recomputing the predecessor is
// cheaper than a second pass and a full HSV buffer), accumulates 64-bit sums per thread, reduces
// with warp shuffles + shared memory, and adds one value per channel into out[i] atomically.
// Row 0 stays zero without `prev`. Integer sums are exact, so results equal the CPU kernel's.
#include <cuda_runtime.h>

#include "color/color.h"
#include "common/cuda_utils.cuh"
#include "scenes/scenes.h"

namespace vidfast {
namespace {

constexpr int kSumThreads = 256;
constexpr int kMaxBlocksPerFrame = 128;

__device__ __forceinline__ unsigned long long warp_sum(unsigned long long v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

__global__ void content_sums_kernel(const uint8_t* __restrict__ frames, const uint8_t* __restrict__ prev,
                                    unsigned long long* __restrict__ out, int64_t pixels) {
  __shared__ int sdiv[256];
  __shared__ int hdiv[256];
  __shared__ unsigned long long partial[3][kSumThreads / 32];
  for (int i = threadIdx.x; i < 256; i += blockDim.x) {
    sdiv[i] = hsv_sdiv(i);
    hdiv[i] = hsv_hdiv(i);
  }
  __syncthreads();

  const int64_t frame = blockIdx.y;
  const uint8_t* cur = frames + frame * pixels * 3;
  const uint8_t* before = frame == 0 ? prev : cur - pixels * 3;
  if (before == nullptr) return;  // first frame of the video: its row stays zero (uniform per block)

  unsigned long long sum[3] = {0, 0, 0};
  const int* sd = sdiv;
  const int* hd = hdiv;
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < pixels;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    uint8_t a[3], b[3];
    hsv_u8(cur[3 * p + 2], cur[3 * p + 1], cur[3 * p], sd, hd, a);
    hsv_u8(before[3 * p + 2], before[3 * p + 1], before[3 * p], sd, hd, b);
#pragma unroll
    for (int c = 0; c < 3; ++c) sum[c] += static_cast<unsigned long long>(abs(static_cast<int>(a[c]) - b[c]));
  }

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int c = 0; c < 3; ++c) {
    const unsigned long long v = warp_sum(sum[c]);
    if (lane == 0) partial[c][warp] = v;
  }
  __syncthreads();
  if (threadIdx.x < 3) {
    unsigned long long total = 0;
    for (int k = 0; k < kSumThreads / 32; ++k) total += partial[threadIdx.x][k];
    atomicAdd(out + frame * 3 + threadIdx.x, total);
  }
}

}  // namespace

void content_sums_cuda(uintptr_t frames, uintptr_t prev, uintptr_t out_sums, int64_t n, int64_t h, int64_t w,
                       uintptr_t stream) {
  check_scenes_args(n, h, w, 3, 0);
  check_ptr("content_sums_cuda", "out_sums", out_sums);
  if (n == 0) return;
  if (n > 65535) fail("content_sums_cuda", "batch must be <= 65535 frames per call, got " + std::to_string(n));
  check_ptr("content_sums_cuda", "frames", frames);
  const cudaStream_t s = as_stream(stream);
  cudaError_t err = cudaMemsetAsync(reinterpret_cast<void*>(out_sums), 0, static_cast<size_t>(n) * 3 * sizeof(int64_t), s);
  if (err != cudaSuccess) fail("content_sums_cuda", std::string("cudaMemsetAsync failed: ") + cudaGetErrorString(err));
  const int64_t pixels = h * w;
  const int64_t per_frame = (pixels + kSumThreads - 1) / kSumThreads;
  const dim3 grid(static_cast<unsigned>(per_frame < kMaxBlocksPerFrame ? per_frame : kMaxBlocksPerFrame),
                  static_cast<unsigned>(n));
  content_sums_kernel<<<grid, kSumThreads, 0, s>>>(reinterpret_cast<const uint8_t*>(frames),
                                                   reinterpret_cast<const uint8_t*>(prev),
                                                   reinterpret_cast<unsigned long long*>(out_sums), pixels);
  check_launch("content_sums_cuda");
}

}  // namespace vidfast
