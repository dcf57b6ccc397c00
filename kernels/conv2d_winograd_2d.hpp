// Two-dimensional Winograd F(m x m, r x r) built from the one-dimensional transforms:
//   Y = A^T [ sum_ic (G g G^T) .* (B^T d B) ] A
// for each m x m block of output pixels of one channel, d the (m + r - 1)^2 input window.
// The element-wise products summed over ic are one GEMM per transform element, as in
// conv2d_winograd_f2x2_3x3.hpp. Used as F(4x4, 3x3) on 3x3 layers wide enough to fill its
// tiles (36 products per 16 outputs instead of 64 with F(2x2, 3x3)) and F(2x2, 5x5) on 5x5
// layers (36 per 4 outputs instead of 100). Over any ISA's micro-kernel G (gemm_tile_*.hpp);
// internal linkage: each ISA file compiles its own copy.
#pragma once
#include "kernel_table.hpp"
#include "winograd_1d_matrices.hpp"
#include "winograd_driver.hpp"

namespace tinception::kernels {
namespace {

template <int M, int R>
struct Winograd2dPlan {
    static constexpr int kAlpha = M + R - 1;
    static constexpr int kElements = kAlpha * kAlpha;
    static constexpr const Winograd1d<M, R>& w = kWinograd1d<M, R>;
};

struct Tiles {
    int tiles_w;
    long per_image;
};

template <int M>
Tiles tiles_of(const Conv2dArgs& a) {
    const int tiles_h = (a.out_h + M - 1) / M, tiles_w = (a.out_w + M - 1) / M;
    return {tiles_w, long(tiles_h) * tiles_w};
}

// v[e][t][ic] = (B^T d B)[e] for the tiles [t0, t0 + count); taps outside the input are zero.
template <class G, int M, int R>
void transform_inputs_2d(const Conv2dArgs& a, const Tiles& tiles, long in_stride, long t0, int count, float* v,
                         long element_stride) {
    using S = typename G::S;
    using P = Winograd2dPlan<M, R>;
    constexpr int n = P::kAlpha;
    const typename S::V zero = S::zero();
    for (int t = 0; t < count; ++t) {
        const long g = t0 + t;
        const long img = g / tiles.per_image;
        const int y0 = M * int(g % tiles.per_image / tiles.tiles_w) - a.pad_top;
        const int x0 = M * int(g % tiles.per_image % tiles.tiles_w) - a.pad_left;
        float* out = v + long(t) * a.in_c;
        for (int c0 = 0; c0 < a.in_c; c0 += S::kLanes) {
            const typename S::Mask m = S::mask(a.in_c - c0);
            typename S::V rows[n][n];  // d B: rows[i][k] = sum_j d[i][j] * B^T[k][j]
#pragma GCC unroll 16
            for (int i = 0; i < n; ++i) {
                const int iy = y0 + i;
                typename S::V d[n];
#pragma GCC unroll 16
                for (int j = 0; j < n; ++j) {
                    const int ix = x0 + j;
                    d[j] = iy < 0 || iy >= a.in_h || ix < 0 || ix >= a.in_w
                               ? zero
                               : S::load(m, a.input + ((img * a.in_h + iy) * a.in_w + ix) * in_stride + c0);
                }
#pragma GCC unroll 16
                for (int k = 0; k < n; ++k) {
                    typename S::V s = zero;
#pragma GCC unroll 16
                    for (int j = 0; j < n; ++j)
                        if (P::w.bt[k][j] != 0.0f) s = S::fmadd(S::set1(P::w.bt[k][j]), d[j], s);
                    rows[i][k] = s;
                }
            }
#pragma GCC unroll 16
            for (int l = 0; l < n; ++l)
#pragma GCC unroll 16
                for (int k = 0; k < n; ++k) {
                    typename S::V s = zero;
#pragma GCC unroll 16
                    for (int i = 0; i < n; ++i)
                        if (P::w.bt[l][i] != 0.0f) s = S::fmadd(S::set1(P::w.bt[l][i]), rows[i][k], s);
                    S::store(out + (l * n + k) * element_stride + c0, m, s);
                }
        }
    }
}

// Output transform of one panel, then bias, ReLU and a store of the block's pixels inside
// the output.
template <class G, int M, int R>
void transform_outputs_2d(const Conv2dArgs& a, const Tiles& tiles, long out_stride, long t0, int count,
                          const float* m_block, long p) {
    using S = typename G::S;
    using P = Winograd2dPlan<M, R>;
    constexpr int n = P::kAlpha;
    for_each_panel_half<G>(a, p, [&](int c0, typename S::Mask mask, typename S::V bias) {
        const int lane0 = c0 % G::kPanelWidth;  // 0 or S::kLanes: this vector's place in the panel
        for (int t = 0; t < count; ++t) {
            const float* mt = m_block + long(t) * P::kElements * G::kPanelWidth + lane0;
            typename S::V cols[n][M];  // m A: cols[l][q] = sum_k m[l][k] * A^T[q][k]
#pragma GCC unroll 16
            for (int l = 0; l < n; ++l) {
                typename S::V row[n];
#pragma GCC unroll 16
                for (int k = 0; k < n; ++k) row[k] = S::load(mt + (l * n + k) * G::kPanelWidth);
#pragma GCC unroll 16
                for (int q = 0; q < M; ++q) {
                    typename S::V s = S::zero();
#pragma GCC unroll 16
                    for (int k = 0; k < n; ++k)
                        if (P::w.at[q][k] != 0.0f) s = S::fmadd(S::set1(P::w.at[q][k]), row[k], s);
                    cols[l][q] = s;
                }
            }
            const long g = t0 + t;
            const long img = g / tiles.per_image;
            const int oy0 = M * int(g % tiles.per_image / tiles.tiles_w);
            const int ox0 = M * int(g % tiles.per_image % tiles.tiles_w);
#pragma GCC unroll 16
            for (int py = 0; py < M; ++py) {
                if (oy0 + py >= a.out_h) break;
#pragma GCC unroll 16
                for (int q = 0; q < M; ++q) {
                    if (ox0 + q >= a.out_w) break;
                    typename S::V r = bias;
#pragma GCC unroll 16
                    for (int l = 0; l < n; ++l)
                        if (P::w.at[py][l] != 0.0f) r = S::fmadd(S::set1(P::w.at[py][l]), cols[l][q], r);
                    if (a.relu) r = S::relu(r);
                    float* o = a.output + ((img * a.out_h + oy0 + py) * a.out_w + ox0 + q) * out_stride + c0;
                    S::store(o, mask, r);
                }
            }
        }
    });
}

template <class G, int M, int R>
std::size_t winograd_2d_packed_size(const Conv2dArgs& a) {
    const std::size_t panels = std::size_t((a.out_c + G::kPanelWidth - 1) / G::kPanelWidth);
    return winograd_packed_bytes<G>(panels * Winograd2dPlan<M, R>::kElements, a.in_c);
}

// packed[p][e][ic][j] = (G g G^T)[e] for output channel p*PW + j, PW = G::kPanelWidth (zero
// past out_c), in double.
template <class G, int M, int R>
void winograd_2d_pack(const Conv2dArgs& a, void* packed) {
    using P = Winograd2dPlan<M, R>;
    constexpr int n = P::kAlpha;
    std::memset(packed, 0, winograd_2d_packed_size<G, M, R>(a));
    for (int oc = 0; oc < a.out_c; ++oc)
        for (int ic = 0; ic < a.in_c; ++ic) {
            const float* g = a.weights + (long(oc) * a.in_c + ic) * R * R;
            double gg[n][R] = {};  // G g
            for (int l = 0; l < n; ++l)
                for (int b = 0; b < R; ++b)
                    for (int k = 0; k < R; ++k) gg[l][b] += P::w.g[l][k] * double(g[k * R + b]);
            const long panel = oc / G::kPanelWidth, j = oc % G::kPanelWidth;
            for (int l = 0; l < n; ++l)
                for (int k = 0; k < n; ++k) {
                    double u = 0.0;  // (G g G^T)[l][k]
                    for (int b = 0; b < R; ++b) u += gg[l][b] * P::w.g[k][b];
                    store_packed_weight<G>(packed, panel * P::kElements + l * n + k, a.in_c, ic, j, float(u));
                }
        }
}

template <class G, int M, int R>
void conv2d_winograd_2d(const Conv2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    if (a.n <= 0 || a.out_h <= 0 || a.out_w <= 0) return;
    const Tiles tiles = tiles_of<M>(a);
    run_winograd<G>(
        a, a.n * tiles.per_image, Winograd2dPlan<M, R>::kElements, winograd_2d_packed_size<G, M, R>(a),
        winograd_2d_pack<G, M, R>,
        [&](long t0, int count, float* v, long element_stride) {
            transform_inputs_2d<G, M, R>(a, tiles, in_stride, t0, count, v, element_stride);
        },
        [&](long t0, int count, const float* m, long p) {
            transform_outputs_2d<G, M, R>(a, tiles, out_stride, t0, count, m, p);
        });
}

// Packed layout of both: panels of output channels, each [(m + r - 1)^2][in_c][panel width].
template <class G>
void conv2d_winograd_f4x4_3x3(const Conv2dArgs& a) {
    conv2d_winograd_2d<G, 4, 3>(a);
}

template <class G>
void conv2d_winograd_f2x2_5x5(const Conv2dArgs& a) {
    conv2d_winograd_2d<G, 2, 5>(a);
}

}  // namespace
}  // namespace tinception::kernels
