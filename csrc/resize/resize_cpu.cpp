// resize_u8 CPU kernels.
// Layout: src uint8 [N, H, W, C] -> dst uint8 [N, OH, OW, C], C-contiguous, C in {1, 3}.
// Parallelism: parallel_for (common/parallel.h) over the N*OH output rows, one scratch row per chunk.
// Bilinear is computed vertical-first: the two source rows are blended over the full width into
// int16 (AVX2 madd, see resize_cpu_kernels.h), then the 2-tap horizontal pass gathers from that row.
// Area: integer factors sum blocks in int32; other factors use float pixel-area weights.
#include "resize/resize.h"

#include <algorithm>
#include <vector>

#include "common/array.h"
#include "common/parallel.h"
#include "resize/resize_cpu_kernels.h"

namespace vidfast {
namespace {

void resize_linear(const uint8_t* src, uint8_t* dst, int64_t n, int64_t h, int64_t w, int64_t c, int64_t oh,
                   int64_t ow, bool area_mode) {
  const LinearTable xt = linear_table(w, ow, c, area_mode);
  const LinearTable yt = linear_table(h, oh, w * c, area_mode);
  const int64_t rows = n * oh, row_len = w * c;
  parallel_for(rows, ow * c, [&](int64_t r0, int64_t r1) {
    std::vector<int16_t> tmp(row_len + kRowPad);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / oh, y = r % oh;
      const uint8_t* frame = src + b * h * row_len;
      blend_rows(frame + yt.i0[y], frame + yt.i1[y], yt.w0[y], yt.w1[y], static_cast<int>(row_len), tmp.data());
      uint8_t* out = dst + r * ow * c;
      if (c == 3) linear_hpass<3>(tmp.data(), xt, static_cast<int>(ow), out);
      else linear_hpass<1>(tmp.data(), xt, static_cast<int>(ow), out);
    }
  });
}

VF_CLONES void add_rows(const uint8_t* s, int n, int32_t* acc) {
  for (int i = 0; i < n; ++i) acc[i] += s[i];
}

template <int C>
void block_hpass(const int32_t* acc, int fx, int ow, float inv_area, uint8_t* out) {
  for (int d = 0; d < ow; ++d) {
    for (int k = 0; k < C; ++k) {
      int sum = 0;
      for (int j = 0; j < fx; ++j) sum += acc[(d * fx + j) * C + k];
      int v = static_cast<int>(rintf(static_cast<float>(sum) * inv_area));
      out[d * C + k] = static_cast<uint8_t>(std::min(v, 255));
    }
  }
}

// Integer factors fy x fx: mean of each block (OpenCV "area fast": sum * (1.f / area), rounded).
void resize_area_int(const uint8_t* src, uint8_t* dst, int64_t n, int64_t h, int64_t w, int64_t c, int64_t oh,
                     int64_t ow, int fy, int fx) {
  const int64_t rows = n * oh, row_len = w * c;
  const float inv_area = 1.f / static_cast<float>(fx * fy);
  parallel_for(rows, ow * c, [&](int64_t r0, int64_t r1) {
    std::vector<int32_t> acc(row_len);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / oh, y = r % oh;
      std::fill(acc.begin(), acc.end(), 0);
      for (int j = 0; j < fy; ++j) add_rows(src + (b * h + y * fy + j) * row_len, static_cast<int>(row_len), acc.data());
      uint8_t* out = dst + r * ow * c;
      if (c == 3) block_hpass<3>(acc.data(), fx, static_cast<int>(ow), inv_area, out);
      else block_hpass<1>(acc.data(), fx, static_cast<int>(ow), inv_area, out);
    }
  });
}

struct AreaEntry { int dst, src; float w; };  // one (output, source, weight) term, sorted by dst

std::vector<AreaEntry> area_table(int64_t src, int64_t dst) {
  std::vector<AreaEntry> tab;
  const double scale = resize_scale(src, dst);
  for (int64_t d = 0; d < dst; ++d) {
    const AreaCell cell = area_cell(d, scale, src);
    for (int i = cell.first; i <= cell.last; ++i) tab.push_back({static_cast<int>(d), i, area_weight(cell, i)});
  }
  return tab;
}

VF_CLONES void accumulate_row(const uint8_t* __restrict s, float w, int n, float* __restrict acc) {
  for (int i = 0; i < n; ++i) acc[i] += static_cast<float>(s[i]) * w;
}

template <int C>
void area_hpass(const float* __restrict rows, const std::vector<AreaEntry>& xt, float* __restrict out) {
  for (const AreaEntry& e : xt)
    for (int k = 0; k < C; ++k) out[e.dst * C + k] += rows[e.src * C + k] * e.w;
}

// General downscale, vertical first: the cell's source rows are summed with their weights over the
// full width (vectorised), then the horizontal weights gather from that one row; float throughout,
// rounded once. Same float operation order as reference.py and the CUDA kernel.
void resize_area_general(const uint8_t* src, uint8_t* dst, int64_t n, int64_t h, int64_t w, int64_t c,
                         int64_t oh, int64_t ow) {
  const std::vector<AreaEntry> xt = area_table(w, ow), yt = area_table(h, oh);
  std::vector<size_t> ystart(oh + 1, yt.size());
  for (size_t i = yt.size(); i-- > 0;) ystart[yt[i].dst] = i;
  const int64_t rows = n * oh, row_len = w * c, out_len = ow * c;
  parallel_for(rows, out_len, [&](int64_t r0, int64_t r1) {
    std::vector<float> vsum(row_len), acc(out_len);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / oh, y = r % oh;
      std::fill(vsum.begin(), vsum.end(), 0.f);
      for (size_t e = ystart[y]; e < yt.size() && yt[e].dst == y; ++e)
        accumulate_row(src + (b * h + yt[e].src) * row_len, yt[e].w, static_cast<int>(row_len), vsum.data());
      std::fill(acc.begin(), acc.end(), 0.f);
      if (c == 3) area_hpass<3>(vsum.data(), xt, acc.data());
      else area_hpass<1>(vsum.data(), xt, acc.data());
      uint8_t* out = dst + r * out_len;
      for (int64_t i = 0; i < out_len; ++i)
        out[i] = static_cast<uint8_t>(std::min(std::max(static_cast<int>(rintf(acc[i])), 0), 255));
    }
  });
}

void resize_dispatch(const uint8_t* src, uint8_t* dst, int64_t n, int64_t h, int64_t w, int64_t c, int64_t oh,
                     int64_t ow, Interp interp) {
  if (interp == Interp::kBilinear || !area_downscale(h, w, oh, ow)) {
    resize_linear(src, dst, n, h, w, c, oh, ow, interp == Interp::kArea);
    return;
  }
  const int fy = integer_factor(h, oh), fx = integer_factor(w, ow);
  if (fy > 0 && fx > 0) resize_area_int(src, dst, n, h, w, c, oh, ow, fy, fx);
  else resize_area_general(src, dst, n, h, w, c, oh, ow);
}

}  // namespace

pybind11::array resize_u8_cpu(const pybind11::array& src, int64_t out_h, int64_t out_w,
                              const std::string& interpolation) {
  const auto s = check_array<uint8_t, 4>(src, "resize_u8", "frames");
  check_resize_args(s[0], s[1], s[2], s[3], out_h, out_w);
  const Interp interp = parse_interp(interpolation);
  auto out = empty_array<uint8_t>({s[0], out_h, out_w, s[3]});
  const uint8_t* in_ptr = static_cast<const uint8_t*>(src.data());
  uint8_t* out_ptr = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    resize_dispatch(in_ptr, out_ptr, s[0], s[1], s[2], s[3], out_h, out_w, interp);
  }
  return out;
}

}  // namespace vidfast
