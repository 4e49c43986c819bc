// normalize_to_chw_f32 CPU kernels.
// Layout: src uint8 [N, H, W, C] (C in {1, 3}) -> dst float32 [N, C, OH, OW] (planar).
// Parallelism: parallel_for (common/parallel.h) over the N*OH output rows. Each row blends its two
// source rows in float over the full width (vectorisable), then gathers horizontally and writes C
// planar output rows.
#include <vector>

#include "common/array.h"
#include "common/parallel.h"
#include "normalize/normalize.h"
#include "resize/resize_cpu_kernels.h"

namespace vidfast {
namespace {

struct Affine { float scale[3], bias[3]; };

template <int C>
VF_CLONES void hpass_planar(const float* row, const LinearTableF& x, int ow, const Affine& a, float* out,
                            int64_t plane) {
  for (int d = 0; d < ow; ++d) {
    const float w0 = x.w0[d], w1 = x.w1[d];
    const float* p0 = row + x.i0[d];
    const float* p1 = row + x.i1[d];
    for (int k = 0; k < C; ++k) out[k * plane + d] = (p0[k] * w0 + p1[k] * w1) * a.scale[k] + a.bias[k];
  }
}

void normalize_rows(const uint8_t* src, float* dst, int64_t n, int64_t h, int64_t w, int64_t c, int64_t oh,
                    int64_t ow, const Affine& a) {
  const LinearTableF xt = linear_table_f(w, ow, c);
  const LinearTableF yt = linear_table_f(h, oh, w * c);
  const int64_t rows = n * oh, row_len = w * c, plane = oh * ow;
  parallel_for(rows, ow * c, [&](int64_t r0, int64_t r1) {
    std::vector<float> tmp(row_len);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / oh, y = r % oh;
      const uint8_t* frame = src + b * h * row_len;
      blend_rows_f(frame + yt.i0[y], frame + yt.i1[y], yt.w0[y], yt.w1[y], static_cast<int>(row_len), tmp.data());
      float* out = dst + b * c * plane + y * ow;
      if (c == 3) hpass_planar<3>(tmp.data(), xt, static_cast<int>(ow), a, out, plane);
      else hpass_planar<1>(tmp.data(), xt, static_cast<int>(ow), a, out, plane);
    }
  });
}

}  // namespace

pybind11::array normalize_to_chw_f32_cpu(const pybind11::array& src, int64_t out_h, int64_t out_w,
                                         const std::vector<float>& mean, const std::vector<float>& std) {
  const auto s = check_array<uint8_t, 4>(src, "normalize_to_chw_f32", "frames");
  check_normalize_args(s[0], s[1], s[2], s[3], out_h, out_w, mean, std);
  Affine a{};
  for (int64_t k = 0; k < s[3]; ++k) {
    a.scale[k] = 1.f / (255.f * std[k]);
    a.bias[k] = -mean[k] / std[k];
  }
  auto out = empty_array<float>({s[0], s[3], out_h, out_w});
  const uint8_t* in_ptr = static_cast<const uint8_t*>(src.data());
  float* out_ptr = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    normalize_rows(in_ptr, out_ptr, s[0], s[1], s[2], s[3], out_h, out_w, a);
  }
  return out;
}

}  // namespace vidfast
