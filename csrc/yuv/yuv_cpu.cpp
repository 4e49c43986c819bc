// yuv420p_to_rgb CPU kernels.
// Layout: y [N, H, W], u/v [N, (H+1)/2, (W+1)/2] uint8 planes -> rgb [N, OH, OW, 3] uint8.
// Parallelism: parallel_for (common/parallel.h) over the N*OH output rows. Without resize each row
// is converted directly; with resize a row converts its two source rows into scratch, then reuses
// resize_u8's passes.
#include <vector>

#include "common/array.h"
#include "common/parallel.h"
#include "resize/resize_cpu_kernels.h"
#include "yuv/yuv.h"

namespace vidfast {
namespace {

struct Planes {
  const uint8_t *y, *u, *v;
  int64_t h, w, cw;
};

// Chroma contributions of one chroma row, duplicated per luma column (so the pixel loop is a
// straight vectorisable loop without x/2 indexing). Each array holds 2 * cw >= w ints.
VF_CLONES void chroma_terms(const uint8_t* __restrict ur, const uint8_t* __restrict vr, int64_t cw,
                            const YuvCoeffs k, int* __restrict rv, int* __restrict gv, int* __restrict bu) {
  for (int64_t cx = 0; cx < cw; ++cx) {
    const int u = ur[cx] - 128, v = vr[cx] - 128;
    const int r = k.crv * v, g = -k.cgu * u - k.cgv * v, b = k.cbu * u;
    rv[2 * cx] = r; rv[2 * cx + 1] = r;
    gv[2 * cx] = g; gv[2 * cx + 1] = g;
    bu[2 * cx] = b; bu[2 * cx + 1] = b;
  }
}

VF_CLONES void luma_pixels(const uint8_t* __restrict yr, const int* __restrict rv, const int* __restrict gv,
                           const int* __restrict bu, int64_t w, const YuvCoeffs k, uint8_t* __restrict out) {
  constexpr int kRound = 1 << (kYuvShift - 1);
  for (int64_t x = 0; x < w; ++x) {
    const int yy = (yr[x] - k.y_off) * k.cy + kRound;
    out[3 * x] = clamp_u8((yy + rv[x]) >> kYuvShift);
    out[3 * x + 1] = clamp_u8((yy + gv[x]) >> kYuvShift);
    out[3 * x + 2] = clamp_u8((yy + bu[x]) >> kYuvShift);
  }
}

// Scratch for one thread: the three chroma-term rows.
struct ChromaScratch {
  std::vector<int> rv, gv, bu;
  explicit ChromaScratch(int64_t cw) : rv(2 * cw), gv(2 * cw), bu(2 * cw) {}
};

void convert_row(const Planes& p, int64_t b, int64_t row, const YuvCoeffs& k, ChromaScratch& cs, uint8_t* out) {
  const int64_t ch = (p.h + 1) / 2;
  const int64_t coff = (b * ch + row / 2) * p.cw;
  chroma_terms(p.u + coff, p.v + coff, p.cw, k, cs.rv.data(), cs.gv.data(), cs.bu.data());
  luma_pixels(p.y + (b * p.h + row) * p.w, cs.rv.data(), cs.gv.data(), cs.bu.data(), p.w, k, out);
}

void convert_same_size(const Planes& p, int64_t n, const YuvCoeffs& k, uint8_t* dst) {
  const int64_t rows = n * p.h;
  parallel_for(rows, p.w * 3, [&](int64_t r0, int64_t r1) {
    ChromaScratch cs(p.cw);
    for (int64_t r = r0; r < r1; ++r) convert_row(p, r / p.h, r % p.h, k, cs, dst + r * p.w * 3);
  });
}

void convert_resized(const Planes& p, int64_t n, int64_t oh, int64_t ow, const YuvCoeffs& k, uint8_t* dst) {
  const LinearTable xt = linear_table(p.w, ow, 3, false);
  const LinearTable yt = linear_table(p.h, oh, 1, false);  // plain row indices
  const int64_t rows = n * oh, row_len = p.w * 3;
  parallel_for(rows, ow * 3, [&](int64_t r0, int64_t r1) {
    std::vector<uint8_t> rgb0(row_len), rgb1(row_len);
    std::vector<int16_t> tmp(row_len + kRowPad);
    ChromaScratch cs(p.cw);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / oh, y = r % oh;
      convert_row(p, b, yt.i0[y], k, cs, rgb0.data());
      if (yt.w1[y] != 0) convert_row(p, b, yt.i1[y], k, cs, rgb1.data());
      blend_rows(rgb0.data(), yt.w1[y] != 0 ? rgb1.data() : rgb0.data(), yt.w0[y], yt.w1[y],
                 static_cast<int>(row_len), tmp.data());
      linear_hpass<3>(tmp.data(), xt, static_cast<int>(ow), dst + r * ow * 3);
    }
  });
}

}  // namespace

pybind11::array yuv420p_to_rgb_cpu(const pybind11::array& y, const pybind11::array& u, const pybind11::array& v,
                                   int64_t out_h, int64_t out_w, const std::string& matrix, bool full_range) {
  const auto ys = check_array<uint8_t, 3>(y, "yuv420p_to_rgb", "y");
  const auto us = check_array<uint8_t, 3>(u, "yuv420p_to_rgb", "u");
  const auto vs = check_array<uint8_t, 3>(v, "yuv420p_to_rgb", "v");
  if (us != vs) fail("yuv420p_to_rgb", "u and v must have the same shape");
  if (us[0] != ys[0]) fail("yuv420p_to_rgb", "y, u and v must have the same batch size");
  const int64_t oh = out_h > 0 ? out_h : ys[1], ow = out_w > 0 ? out_w : ys[2];
  check_yuv_args(ys[0], ys[1], ys[2], us[1], us[2], oh, ow);
  const YuvCoeffs k = yuv_coeffs(matrix, full_range);
  auto out = empty_array<uint8_t>({ys[0], oh, ow, 3});
  const Planes p{static_cast<const uint8_t*>(y.data()), static_cast<const uint8_t*>(u.data()),
                 static_cast<const uint8_t*>(v.data()), ys[1], ys[2], us[2]};
  uint8_t* out_ptr = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    if (oh == ys[1] && ow == ys[2]) convert_same_size(p, ys[0], k, out_ptr);
    else convert_resized(p, ys[0], oh, ow, k, out_ptr);
  }
  return out;
}

}  // namespace vidfast
