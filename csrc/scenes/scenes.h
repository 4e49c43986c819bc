// content_scores: PySceneDetect-0.7-compatible per-frame content components, batched.
//
// Input: BGR uint8 frames [N, H, W, 3] (already downscaled, as SceneManager hands them to
// ContentDetector) plus the frame before the batch (or none). Output: float64 [N, 4] with, per
// frame i, the mean absolute difference to frame i-1 of (hue, sat, lum, edges); row 0 compares
// against `prev`, and is all zero when there is no previous frame (PySceneDetect scores the first
// frame 0.0). Each component is sum(|a - b|) / (H * W) in double, exactly as scenedetect's
// `_mean_pixel_distance` (an int64 sum divided by a float pixel count).
//
// HSV is OpenCV's 8-bit BGR2HSV (color/color.h). Edges are OpenCV's Canny (aperture 3, L1
// gradient) on the V plane with scenedetect's median-based thresholds, then a k x k dilation.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string>

#include "common/checks.h"

namespace vidfast {

constexpr int kScoreComponents = 4;  // hue, sat, lum, edges

// scenedetect `_estimated_kernel_size`: 4 + round(sqrt(w*h)/192), bumped to odd.
inline int scenes_kernel_size(int64_t w, int64_t h) {
  // Python's round() is half-to-even; nearbyint uses the current (default: to-even) mode.
  int k = 4 + static_cast<int>(nearbyint(sqrt(static_cast<double>(w * h)) / 192.0));
  return k % 2 == 0 ? k + 1 : k;
}

inline void check_scenes_args(int64_t n, int64_t h, int64_t w, int64_t c, int64_t kernel_size) {
  check_size("content_scores", "batch", n, 0);
  check_size("content_scores", "height", h);
  check_size("content_scores", "width", w);
  if (c != 3) fail("content_scores", "frames must have 3 (BGR) channels, got " + std::to_string(c));
  if (kernel_size != 0 && (kernel_size < 3 || kernel_size % 2 == 0))
    fail("content_scores", "kernel_size must be 0 (auto) or an odd integer >= 3, got " + std::to_string(kernel_size));
}

// CUDA: frames = device uint8 [n, h, w, 3] BGR; prev = device uint8 [h, w, 3] or 0 for none;
// out_sums = device int64 [n, 3]: sum |d hue|, |d sat|, |d lum| per frame (overwritten; row 0 is
// zero when prev is 0). Divide by h*w in double for scenedetect's component values. Edges are not
// computed on the GPU. Enqueued on `stream`; returns without synchronising.
void content_sums_cuda(uintptr_t frames, uintptr_t prev, uintptr_t out_sums, int64_t n, int64_t h, int64_t w,
                       uintptr_t stream);

}  // namespace vidfast

#ifndef __CUDACC__
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
namespace vidfast {
// CPU: frames uint8 [N,H,W,3] BGR C-contiguous, prev uint8 [H,W,3] or None -> float64 [N,4].
// with_edges=false leaves column 3 at zero (and skips Canny). kernel_size 0 = scenedetect's auto size.
// Releases the GIL; OpenMP over frames and rows.
pybind11::array content_scores_cpu(const pybind11::array& frames, const pybind11::object& prev, bool with_edges,
                                   int64_t kernel_size);
// CPU: edge maps exactly as scenedetect's ContentDetector._detect_edges, for tests/debugging:
// lum uint8 [N,H,W] -> uint8 [N,H,W] (0 / 255).
pybind11::array scene_edges_cpu(const pybind11::array& lum, int64_t kernel_size);
// CPU: one yuv420p frame -> small BGR, bit-exact to FFmpeg's x86 unscaled yuv420p->bgr24 converter
// (16-bit mulhi arithmetic, nearest chroma) followed by cv2.resize INTER_LINEAR (or OpenCV's 2x2
// area path when both scales are exactly 2), computing only the source pixels the filter taps.
// y [H, >=W], u/v [ceil(H/2), >=ceil(W/2)] (row strides = FFmpeg line sizes); out uint8 [oh, ow, 3]
// written in place. coeffs = FFmpeg's yuv2rgb table row {crv, cbu, cgu, cgv} (limited range).
void yuv420p_small_bgr_cpu(const pybind11::array& y, const pybind11::array& u, const pybind11::array& v,
                           int64_t width, int64_t height, pybind11::array& out, std::array<int64_t, 4> coeffs);
// Adds the scenes entries to the module (called once from bindings.cpp).
void register_scenes(pybind11::module_& m);
}  // namespace vidfast
#endif
