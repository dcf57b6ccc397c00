// Winograd F(2x2, 3x3) (Lavin & Gray) over any ISA's micro-kernel G (gemm_tile_*.hpp): each
// 2x2 block of output pixels of one channel is
//   Y = A^T [ sum_ic (G g G^T) .* (B^T d B) ] A
// with d the 4x4 input window of the block and g the 3x3 kernel. Its transforms hold only 0,
// +-1 and 1/2, so they are written out as adds: conv2d_winograd_2d.hpp builds the same
// transform for m = 2, r = 3 with multiply-adds, which measured slower on the 8x8 layers.
// Internal linkage: each ISA file compiles its own copy.
#pragma once
#include <cstddef>
#include <cstring>

#include "kernel_table.hpp"
#include "winograd_driver.hpp"

namespace tinception::kernels {
namespace {

constexpr int kWinogradF2x2_3x3Elements = 16;  // 4x4 transform elements

template <class G>
std::size_t winograd_f2x2_3x3_packed_size(const Conv2dArgs& a) {
    const std::size_t panels = std::size_t((a.out_c + G::kPanelWidth - 1) / G::kPanelWidth);
    return winograd_packed_bytes<G>(panels * kWinogradF2x2_3x3Elements, a.in_c);
}

// packed[p][e][ic][j] = (G g G^T)[e] for output channel p*PW + j, PW = G::kPanelWidth (zero
// past out_c), with G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
template <class G>
void winograd_f2x2_3x3_pack(const Conv2dArgs& a, void* packed) {
    constexpr int PanelWidth = G::kPanelWidth;
    std::memset(packed, 0, winograd_f2x2_3x3_packed_size<G>(a));
    for (int oc = 0; oc < a.out_c; ++oc)
        for (int ic = 0; ic < a.in_c; ++ic) {
            const float* g = a.weights + (long(oc) * a.in_c + ic) * 9;
            float t[4][3];  // G g
            for (int c = 0; c < 3; ++c) {
                t[0][c] = g[c];
                t[1][c] = 0.5f * (g[c] + g[3 + c] + g[6 + c]);
                t[2][c] = 0.5f * (g[c] - g[3 + c] + g[6 + c]);
                t[3][c] = g[6 + c];
            }
            const long p = oc / PanelWidth, j = oc % PanelWidth;
            for (int r = 0; r < 4; ++r) {
                const float u[4] = {t[r][0], 0.5f * (t[r][0] + t[r][1] + t[r][2]),
                                    0.5f * (t[r][0] - t[r][1] + t[r][2]), t[r][2]};
                for (int c = 0; c < 4; ++c)
                    store_packed_weight<G>(packed, p * kWinogradF2x2_3x3Elements + r * 4 + c, a.in_c, ic, j, u[c]);
            }
        }
}

// Input transform of the tiles [t0, t0 + count): v[e][t][ic] = (B^T d B)[e] with
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
// taps outside the input (any padding, negative pad_top of a row band) read as zero.
template <class G>
void transform_inputs_f2x2_3x3(const Conv2dArgs& a, long in_stride, long t0, int count, int tiles_w,
                               long per_image, float* v, long element_stride) {
    using S = typename G::S;
    const typename S::V zero = S::zero();
    for (int t = 0; t < count; ++t) {
        const long g = t0 + t;
        const long img = g / per_image;
        const int ty = int(g % per_image / tiles_w), tx = int(g % per_image % tiles_w);
        const int y0 = 2 * ty - a.pad_top, x0 = 2 * tx - a.pad_left;
        const float* px[4][4];
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) {
                const int iy = y0 + i, ix = x0 + j;
                px[i][j] = iy < 0 || iy >= a.in_h || ix < 0 || ix >= a.in_w
                               ? nullptr
                               : a.input + ((img * a.in_h + iy) * a.in_w + ix) * in_stride;
            }
        float* out = v + long(t) * a.in_c;
        for (int c0 = 0; c0 < a.in_c; c0 += S::kLanes) {
            const typename S::Mask m = S::mask(a.in_c - c0);
            typename S::V d[4][4];
            for (int i = 0; i < 4; ++i)
                for (int j = 0; j < 4; ++j) d[i][j] = px[i][j] ? S::load(m, px[i][j] + c0) : zero;
            typename S::V r[4][4];  // B^T d
            for (int j = 0; j < 4; ++j) {
                r[0][j] = S::sub(d[0][j], d[2][j]);
                r[1][j] = S::add(d[1][j], d[2][j]);
                r[2][j] = S::sub(d[2][j], d[1][j]);
                r[3][j] = S::sub(d[1][j], d[3][j]);
            }
            for (int i = 0; i < 4; ++i) {  // (B^T d) B
                float* o = out + long(i * 4) * element_stride + c0;
                S::store(o, m, S::sub(r[i][0], r[i][2]));
                S::store(o + element_stride, m, S::add(r[i][1], r[i][2]));
                S::store(o + 2 * element_stride, m, S::sub(r[i][2], r[i][1]));
                S::store(o + 3 * element_stride, m, S::sub(r[i][1], r[i][3]));
            }
        }
    }
}

// Output transform of one panel: y = A^T m A with A^T = [1 1 1 0; 0 1 -1 -1], then bias,
// ReLU and a store of the block's pixels that lie inside the output.
template <class G>
void transform_outputs_f2x2_3x3(const Conv2dArgs& a, long out_stride, long t0, int count, int tiles_w,
                                long per_image, const float* m_block, long p) {
    using S = typename G::S;
    for_each_panel_half<G>(a, p, [&](int c0, typename S::Mask mask, typename S::V bias) {
        const int lane0 = c0 % G::kPanelWidth;  // 0 or S::kLanes: this vector's place in the panel
        for (int t = 0; t < count; ++t) {
            const float* mt = m_block + long(t) * kWinogradF2x2_3x3Elements * G::kPanelWidth + lane0;
            typename S::V s0[4], s1[4];  // A^T m
            for (int j = 0; j < 4; ++j) {
                const typename S::V m0 = S::load(mt + (0 * 4 + j) * G::kPanelWidth);
                const typename S::V m1 = S::load(mt + (1 * 4 + j) * G::kPanelWidth);
                const typename S::V m2 = S::load(mt + (2 * 4 + j) * G::kPanelWidth);
                const typename S::V m3 = S::load(mt + (3 * 4 + j) * G::kPanelWidth);
                s0[j] = S::add(S::add(m0, m1), m2);
                s1[j] = S::sub(S::sub(m1, m2), m3);
            }
            typename S::V y[2][2];  // (A^T m) A
            y[0][0] = S::add(S::add(s0[0], s0[1]), s0[2]);
            y[0][1] = S::sub(S::sub(s0[1], s0[2]), s0[3]);
            y[1][0] = S::add(S::add(s1[0], s1[1]), s1[2]);
            y[1][1] = S::sub(S::sub(s1[1], s1[2]), s1[3]);
            const long g = t0 + t;
            const long img = g / per_image;
            const int oy0 = 2 * int(g % per_image / tiles_w), ox0 = 2 * int(g % per_image % tiles_w);
            for (int i = 0; i < 2; ++i) {
                if (oy0 + i >= a.out_h) break;
                for (int j = 0; j < 2; ++j) {
                    if (ox0 + j >= a.out_w) break;
                    typename S::V r = S::add(y[i][j], bias);
                    if (a.relu) r = S::relu(r);
                    float* o = a.output + ((img * a.out_h + oy0 + i) * a.out_w + ox0 + j) * out_stride + c0;
                    S::store(o, mask, r);
                }
            }
        }
    });
}

template <class G>
void conv2d_winograd_f2x2_3x3(const Conv2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    if (a.n <= 0 || a.out_h <= 0 || a.out_w <= 0) return;
    const int tiles_w = (a.out_w + 1) / 2;
    const long per_image = long((a.out_h + 1) / 2) * tiles_w;
    run_winograd<G>(
        a, a.n * per_image, kWinogradF2x2_3x3Elements, winograd_f2x2_3x3_packed_size<G>(a),
        winograd_f2x2_3x3_pack<G>,
        [&](long t0, int count, float* v, long element_stride) {
            transform_inputs_f2x2_3x3<G>(a, in_stride, t0, count, tiles_w, per_image, v, element_stride);
        },
        [&](long t0, int count, const float* m, long p) {
            transform_outputs_f2x2_3x3<G>(a, out_stride, t0, count, tiles_w, per_image, m, p);
        });
}

}  // namespace
}  // namespace tinception::kernels
