// One-dimensional Winograd F(m, r) for the 1xr and rx1 stride-1 convolutions of Inception
// (r = 3 and 7): along the kernel's axis, each run of m output pixels of one channel is
//   y = A^T [ sum_ic (G g) .* (B^T d) ]
// with d the m + r - 1 input pixels under it. As in the 2-D kernel, the element-wise
// products summed over ic are independent GEMMs [tiles][in_c] x [in_c][out_c], one per
// transform element, and bias and ReLU follow the output transform. m = 4: a 1x7 layer
// costs 10 products per 4 outputs instead of 28, and its 17-wide rows are 5 tiles. Over any
// ISA's micro-kernel G (gemm_tile_*.hpp); internal linkage: each ISA file compiles its own.
#pragma once
#include "kernel_table.hpp"
#include "winograd_1d_matrices.hpp"
#include "winograd_driver.hpp"

namespace tinception::kernels {
namespace {

// Where the tiles of M outputs lie: along rows (1xr kernel) or along columns (rx1). Tile g of
// a call is image g / per_image; within the image, a horizontal tile is (row, run of M
// columns) and a vertical one (run of M rows, column), numbered row-major either way.
template <int M>
struct Tiling1d {
    bool vertical;
    int tiles_w;      // tiles across one row of tiles
    long per_image;
    int dy, dx;       // step from one tap (and one output) of a tile to the next

    explicit Tiling1d(const Conv2dArgs& a) : vertical(a.kernel_w == 1) {
        const int along_h = vertical ? (a.out_h + M - 1) / M : a.out_h;
        tiles_w = vertical ? a.out_w : (a.out_w + M - 1) / M;
        per_image = long(along_h) * tiles_w;
        dy = vertical ? 1 : 0;
        dx = vertical ? 0 : 1;
    }
    // First output pixel of tile g.
    void origin(long g, long& img, int& oy, int& ox) const {
        img = g / per_image;
        const long r = g % per_image;
        oy = int(r / tiles_w) * (vertical ? M : 1);
        ox = int(r % tiles_w) * (vertical ? 1 : M);
    }
};

// v[e][t][ic] = (B^T d)[e] for the tiles [t0, t0 + count); taps outside the input are zero.
template <class G, int M, int R>
void transform_inputs_1d(const Conv2dArgs& a, const Tiling1d<M>& tiling, long in_stride, long t0, int count,
                         float* v, long element_stride) {
    using S = typename G::S;
    constexpr int kAlpha = Winograd1d<M, R>::kAlpha;
    constexpr const Winograd1d<M, R>& w = kWinograd1d<M, R>;
    const typename S::V zero = S::zero();
    for (int t = 0; t < count; ++t) {
        long img;
        int oy, ox;
        tiling.origin(t0 + t, img, oy, ox);
        const float* px[kAlpha];
        for (int e = 0; e < kAlpha; ++e) {
            const int iy = oy - a.pad_top + e * tiling.dy, ix = ox - a.pad_left + e * tiling.dx;
            px[e] = iy < 0 || iy >= a.in_h || ix < 0 || ix >= a.in_w
                        ? nullptr
                        : a.input + ((img * a.in_h + iy) * a.in_w + ix) * in_stride;
        }
        float* out = v + long(t) * a.in_c;
        for (int c0 = 0; c0 < a.in_c; c0 += S::kLanes) {
            const typename S::Mask m = S::mask(a.in_c - c0);
            typename S::V d[kAlpha];
#pragma GCC unroll 16
            for (int e = 0; e < kAlpha; ++e) d[e] = px[e] ? S::load(m, px[e] + c0) : zero;
#pragma GCC unroll 16
            for (int i = 0; i < kAlpha; ++i) {
                typename S::V sum = zero;
#pragma GCC unroll 16
                for (int e = 0; e < kAlpha; ++e)
                    if (w.bt[i][e] != 0.0f) sum = S::fmadd(S::set1(w.bt[i][e]), d[e], sum);
                S::store(out + i * element_stride + c0, m, sum);
            }
        }
    }
}

// Output transform of one panel, then bias, ReLU and a store of the outputs inside the image.
template <class G, int M, int R>
void transform_outputs_1d(const Conv2dArgs& a, const Tiling1d<M>& tiling, long out_stride, long t0, int count,
                          const float* m_block, long p) {
    using S = typename G::S;
    constexpr int kAlpha = Winograd1d<M, R>::kAlpha;
    constexpr const Winograd1d<M, R>& w = kWinograd1d<M, R>;
    for_each_panel_half<G>(a, p, [&](int c0, typename S::Mask mask, typename S::V bias) {
        const int lane0 = c0 % G::kPanelWidth;  // 0 or S::kLanes: this vector's place in the panel
        for (int t = 0; t < count; ++t) {
            const float* mt = m_block + long(t) * kAlpha * G::kPanelWidth + lane0;
            typename S::V prod[kAlpha];
#pragma GCC unroll 16
            for (int e = 0; e < kAlpha; ++e) prod[e] = S::load(mt + e * G::kPanelWidth);
            long img;
            int oy, ox;
            tiling.origin(t0 + t, img, oy, ox);
#pragma GCC unroll 16
            for (int i = 0; i < M; ++i) {
                const int y = oy + i * tiling.dy, x = ox + i * tiling.dx;
                if (y >= a.out_h || x >= a.out_w) break;
                typename S::V r = bias;
#pragma GCC unroll 16
                for (int e = 0; e < kAlpha; ++e)
                    if (w.at[i][e] != 0.0f) r = S::fmadd(S::set1(w.at[i][e]), prod[e], r);
                if (a.relu) r = S::relu(r);
                S::store(a.output + ((img * a.out_h + y) * a.out_w + x) * out_stride + c0, mask, r);
            }
        }
    });
}

template <class G, int M, int R>
std::size_t winograd_1d_packed_size(const Conv2dArgs& a) {
    const std::size_t panels = std::size_t((a.out_c + G::kPanelWidth - 1) / G::kPanelWidth);
    return winograd_packed_bytes<G>(panels * Winograd1d<M, R>::kAlpha, a.in_c);
}

// packed[p][e][ic][j] = (G g)[e] for output channel p*PW + j, PW = G::kPanelWidth (zero past
// out_c); computed in double. The r taps of a 1xr or rx1 OIHW kernel are contiguous either way.
template <class G, int M, int R>
void winograd_1d_pack(const Conv2dArgs& a, void* packed) {
    constexpr int kAlpha = Winograd1d<M, R>::kAlpha;
    constexpr const Winograd1d<M, R>& w = kWinograd1d<M, R>;
    std::memset(packed, 0, winograd_1d_packed_size<G, M, R>(a));
    for (int oc = 0; oc < a.out_c; ++oc)
        for (int ic = 0; ic < a.in_c; ++ic) {
            const float* g = a.weights + (long(oc) * a.in_c + ic) * R;
            const long p = oc / G::kPanelWidth, j = oc % G::kPanelWidth;
            for (int e = 0; e < kAlpha; ++e) {
                double u = 0.0;
                for (int k = 0; k < R; ++k) u += w.g[e][k] * double(g[k]);
                store_packed_weight<G>(packed, p * kAlpha + e, a.in_c, ic, j, float(u));
            }
        }
}

template <class G, int M, int R>
void conv2d_winograd_1d(const Conv2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    if (a.n <= 0 || a.out_h <= 0 || a.out_w <= 0) return;
    const Tiling1d<M> tiling(a);
    run_winograd<G>(
        a, a.n * tiling.per_image, Winograd1d<M, R>::kAlpha, winograd_1d_packed_size<G, M, R>(a),
        winograd_1d_pack<G, M, R>,
        [&](long t0, int count, float* v, long element_stride) {
            transform_inputs_1d<G, M, R>(a, tiling, in_stride, t0, count, v, element_stride);
        },
        [&](long t0, int count, const float* m, long p) {
            transform_outputs_1d<G, M, R>(a, tiling, out_stride, t0, count, m, p);
        });
}

// F(4, 3) and F(4, 7) on the 1x3, 3x1, 1x7 and 7x1 stride-1 layers. The transforms' rounding
// grows with m; at m = 4 the network's features stay within 1e-6 of the direct path's,
// relative to their largest value. Packed layout: panels of output channels, each
// [m + r - 1][in_c][panel width].

// Rows a band must start on a multiple of: the tile height of the rx1 layers, 1 for 1xr.
template <int M>
int winograd_1d_row_alignment(const Conv2dArgs& a) {
    return a.kernel_w == 1 ? M : 1;
}

template <class G>
void conv2d_winograd_f4_3(const Conv2dArgs& a) {
    conv2d_winograd_1d<G, 4, 3>(a);
}

template <class G>
void conv2d_winograd_f4_7(const Conv2dArgs& a) {
    conv2d_winograd_1d<G, 4, 7>(a);
}

}  // namespace
}  // namespace tinception::kernels
