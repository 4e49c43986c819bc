// The only PYBIND11_MODULE of vidfast._C. One commented m.def per op entry point.
//
// Adding an op: create csrc/<op>/ with <op>.h (signature + checks), <op>_cpu.cpp and <op>_cuda.cu
// (globbed by CMakeLists.txt, no edit there), include the header below, add the CPU m.def in the
// CPU block and the CUDA m.def inside the #ifdef VIDFAST_WITH_CUDA block.
//
// Conventions: CPU entries take C-contiguous numpy arrays and return new arrays (GIL released while
// computing). CUDA entries take device pointers as ints (tensor.data_ptr()), shapes, and a CUDA
// stream handle as int (torch.cuda.current_stream().cuda_stream); they enqueue and return.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "color/color.h"
#include "normalize/normalize.h"
#include "resize/resize.h"
#include "scenes/scenes.h"
#include "similarity/similarity.h"
#include "vidfast_build_info.h"
#include "yuv/yuv.h"

namespace py = pybind11;

namespace {

py::dict build_info() {
  py::dict info;
#ifdef VIDFAST_WITH_CUDA
  info["cuda"] = true;
#else
  info["cuda"] = false;
#endif
  info["cuda_archs"] = VIDFAST_BUILD_CUDA_ARCHS;
  info["cuda_version"] = VIDFAST_BUILD_CUDA_VERSION;
  info["openmp"] = static_cast<bool>(VIDFAST_OPENMP);
  info["compiler"] = VIDFAST_BUILD_COMPILER;
  info["target_device"] = VIDFAST_BUILD_TARGET_DEVICE;
  return info;
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "vidfast native kernels (import through vidfast._native, never directly)";

  // Build facts: {"cuda", "cuda_archs", "cuda_version", "openmp", "compiler", "target_device"}.
  m.def("build_info", &build_info);

  // ---- CPU entry points (numpy in, numpy out) ----
  // uint8 [N,H,W,C] -> uint8 [N,out_h,out_w,C]; interpolation "bilinear" | "area" (OpenCV semantics).
  m.def("resize_u8", &vidfast::resize_u8_cpu, py::arg("frames"), py::arg("out_h"), py::arg("out_w"),
        py::arg("interpolation") = "bilinear");
  // uint8 [N,H,W,3] -> uint8 [N,H,W,3|1]; code rgb2bgr|bgr2rgb|rgb2gray|bgr2gray|rgb2hsv|bgr2hsv.
  m.def("convert_color_u8", &vidfast::convert_color_u8_cpu, py::arg("frames"), py::arg("code"));
  // y [N,H,W], u/v [N,ceil(H/2),ceil(W/2)] -> uint8 [N,out_h,out_w,3]; out_h/out_w <= 0 keeps size.
  m.def("yuv420p_to_rgb", &vidfast::yuv420p_to_rgb_cpu, py::arg("y"), py::arg("u"), py::arg("v"),
        py::arg("out_h") = 0, py::arg("out_w") = 0, py::arg("matrix") = "bt601", py::arg("full_range") = false);
  // uint8 [N,H,W,C] -> float32 [N,C,out_h,out_w] = (bilinear / 255 - mean) / std.
  m.def("normalize_to_chw_f32", &vidfast::normalize_to_chw_f32_cpu, py::arg("frames"), py::arg("out_h"),
        py::arg("out_w"), py::arg("mean"), py::arg("std"));

  // Scene-cut scores: content_scores, scene_edges (+ content_sums_cuda with CUDA); csrc/scenes/scenes.h.
  vidfast::register_scenes(m);
  // Grounding similarity: segment_mean, segment_max_pool, merge_scan, span_scan (+ _cuda); csrc/similarity/similarity.h.
  vidfast::register_similarity(m);

#ifdef VIDFAST_WITH_CUDA
  // ---- CUDA entry points (device pointers as ints, enqueued on `stream`) ----
  // resize_u8 on the GPU: src/dst uint8 NHWC.
  m.def("resize_u8_cuda", &vidfast::resize_u8_cuda, py::arg("src"), py::arg("dst"), py::arg("n"), py::arg("h"),
        py::arg("w"), py::arg("c"), py::arg("out_h"), py::arg("out_w"), py::arg("interpolation"), py::arg("stream"));
  // convert_color_u8 on the GPU: src uint8 [n,h,w,3], dst [n,h,w,3|1].
  m.def("convert_color_u8_cuda", &vidfast::convert_color_u8_cuda, py::arg("src"), py::arg("dst"), py::arg("n"),
        py::arg("h"), py::arg("w"), py::arg("code"), py::arg("stream"));
  // yuv420p_to_rgb on the GPU: y/u/v planes -> dst uint8 [n,out_h,out_w,3].
  m.def("yuv420p_to_rgb_cuda", &vidfast::yuv420p_to_rgb_cuda, py::arg("y"), py::arg("u"), py::arg("v"),
        py::arg("dst"), py::arg("n"), py::arg("h"), py::arg("w"), py::arg("out_h"), py::arg("out_w"),
        py::arg("matrix"), py::arg("full_range"), py::arg("stream"));
  // normalize_to_chw_f32 on the GPU: src uint8 NHWC -> dst float32 NCHW.
  m.def("normalize_to_chw_f32_cuda", &vidfast::normalize_to_chw_f32_cuda, py::arg("src"), py::arg("dst"),
        py::arg("n"), py::arg("h"), py::arg("w"), py::arg("c"), py::arg("out_h"), py::arg("out_w"), py::arg("mean"),
        py::arg("std"), py::arg("stream"));
#endif
}
