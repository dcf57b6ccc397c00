// Two-dimensional Winograd F(m x m, r x r) built from the one-dimensional transforms:
//   Y = A^T [ sum_ic (G g G^T) .* (B^T d B) ] A
// for each m x m block of output pixels of one channel, d the (m + r - 1)^2 input window.
// The element-wise products summed over ic are one GEMM per transform element, as in the
// F(2x2, 3x3) kernel. Used as F(4x4, 3x3) on 3x3 layers wide enough to fill its tiles (36
// products per 16 outputs instead of 64 with F(2x2, 3x3)) and F(2x2, 5x5) on 5x5 layers (36
// per 4 outputs instead of 100).
#include <immintrin.h>

#include "conv2d_winograd_avx512.hpp"
#include "gemm_tile_avx512.hpp"
#include "kernel_table.hpp"
#include "winograd_1d_matrices.hpp"
#include "winograd_gemm_avx512.hpp"

namespace tinception::kernels {
namespace {

template <int M, int R>
struct Plan {
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
template <int M, int R>
void transform_inputs(const Conv2dArgs& a, const Tiles& tiles, long in_stride, long t0, int count, float* v,
                      long element_stride) {
    using P = Plan<M, R>;
    constexpr int n = P::kAlpha;
    const __m512 zero = _mm512_setzero_ps();
    for (int t = 0; t < count; ++t) {
        const long g = t0 + t;
        const long img = g / tiles.per_image;
        const int y0 = M * int(g % tiles.per_image / tiles.tiles_w) - a.pad_top;
        const int x0 = M * int(g % tiles.per_image % tiles.tiles_w) - a.pad_left;
        float* out = v + long(t) * a.in_c;
        for (int c0 = 0; c0 < a.in_c; c0 += 16) {
            const __mmask16 m = lane_mask(a.in_c - c0);
            __m512 rows[n][n];  // d B: rows[i][k] = sum_j d[i][j] * B^T[k][j]
            for (int i = 0; i < n; ++i) {
                const int iy = y0 + i;
                __m512 d[n];
                for (int j = 0; j < n; ++j) {
                    const int ix = x0 + j;
                    d[j] = iy < 0 || iy >= a.in_h || ix < 0 || ix >= a.in_w
                               ? zero
                               : _mm512_maskz_loadu_ps(m, a.input + ((img * a.in_h + iy) * a.in_w + ix) * in_stride + c0);
                }
                for (int k = 0; k < n; ++k) {
                    __m512 s = zero;
                    for (int j = 0; j < n; ++j)
                        if (P::w.bt[k][j] != 0.0f) s = _mm512_fmadd_ps(_mm512_set1_ps(P::w.bt[k][j]), d[j], s);
                    rows[i][k] = s;
                }
            }
            for (int l = 0; l < n; ++l)
                for (int k = 0; k < n; ++k) {
                    __m512 s = zero;
                    for (int i = 0; i < n; ++i)
                        if (P::w.bt[l][i] != 0.0f) s = _mm512_fmadd_ps(_mm512_set1_ps(P::w.bt[l][i]), rows[i][k], s);
                    _mm512_mask_storeu_ps(out + (l * n + k) * element_stride + c0, m, s);
                }
        }
    }
}

// Output transform of one panel, then bias, ReLU and a store of the block's pixels inside
// the output.
template <int M, int R>
void transform_outputs(const Conv2dArgs& a, const Tiles& tiles, long out_stride, long t0, int count,
                       const float* m_block, long p) {
    using P = Plan<M, R>;
    constexpr int n = P::kAlpha;
    const __m512 zero = _mm512_setzero_ps();
    for_each_panel_half(a, p, [&](int c0, __mmask16 mask, __m512 bias) {
        const int lane0 = c0 % kPanelWidth;  // 0 or 16: this half's place in the panel
        for (int t = 0; t < count; ++t) {
            const float* mt = m_block + long(t) * P::kElements * kPanelWidth + lane0;
            __m512 cols[n][M];  // m A: cols[l][q] = sum_k m[l][k] * A^T[q][k]
            for (int l = 0; l < n; ++l) {
                __m512 row[n];
                for (int k = 0; k < n; ++k) row[k] = _mm512_loadu_ps(mt + (l * n + k) * kPanelWidth);
                for (int q = 0; q < M; ++q) {
                    __m512 s = zero;
                    for (int k = 0; k < n; ++k)
                        if (P::w.at[q][k] != 0.0f) s = _mm512_fmadd_ps(_mm512_set1_ps(P::w.at[q][k]), row[k], s);
                    cols[l][q] = s;
                }
            }
            const long g = t0 + t;
            const long img = g / tiles.per_image;
            const int oy0 = M * int(g % tiles.per_image / tiles.tiles_w);
            const int ox0 = M * int(g % tiles.per_image % tiles.tiles_w);
            for (int py = 0; py < M && oy0 + py < a.out_h; ++py)
                for (int q = 0; q < M && ox0 + q < a.out_w; ++q) {
                    __m512 r = bias;
                    for (int l = 0; l < n; ++l)
                        if (P::w.at[py][l] != 0.0f) r = _mm512_fmadd_ps(_mm512_set1_ps(P::w.at[py][l]), cols[l][q], r);
                    // The zero-masking form: GCC 12 flags the undefined pass-through of _mm512_max_ps.
                    if (a.relu) r = _mm512_maskz_max_ps(0xFFFF, r, zero);
                    float* o = a.output + ((img * a.out_h + oy0 + py) * a.out_w + ox0 + q) * out_stride + c0;
                    _mm512_mask_storeu_ps(o, mask, r);
                }
        }
    });
}

template <int M, int R>
std::size_t packed_size(const Conv2dArgs& a) {
    const std::size_t panels = std::size_t((a.out_c + kPanelWidth - 1) / kPanelWidth);
    return panels * Plan<M, R>::kElements * std::size_t(a.in_c) * kPanelWidth * sizeof(float);
}

// packed[p][e][ic][j] = (G g G^T)[e] for output channel p*32 + j (zero past out_c), in double.
template <int M, int R>
void pack(const Conv2dArgs& a, void* packed) {
    using P = Plan<M, R>;
    constexpr int n = P::kAlpha;
    float* dst = static_cast<float*>(packed);
    std::memset(dst, 0, packed_size<M, R>(a));
    for (int oc = 0; oc < a.out_c; ++oc)
        for (int ic = 0; ic < a.in_c; ++ic) {
            const float* g = a.weights + (long(oc) * a.in_c + ic) * R * R;
            double gg[n][R] = {};  // G g
            for (int l = 0; l < n; ++l)
                for (int b = 0; b < R; ++b)
                    for (int k = 0; k < R; ++k) gg[l][b] += P::w.g[l][k] * double(g[k * R + b]);
            const long panel = oc / kPanelWidth, j = oc % kPanelWidth;
            for (int l = 0; l < n; ++l)
                for (int k = 0; k < n; ++k) {
                    double u = 0.0;  // (G g G^T)[l][k]
                    for (int b = 0; b < R; ++b) u += gg[l][b] * P::w.g[k][b];
                    dst[((panel * P::kElements + l * n + k) * a.in_c + ic) * kPanelWidth + j] = float(u);
                }
        }
}

template <int M, int R>
void run(const Conv2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    if (a.n <= 0 || a.out_h <= 0 || a.out_w <= 0) return;
    const Tiles tiles = tiles_of<M>(a);
    run_winograd(
        a, a.n * tiles.per_image, Plan<M, R>::kElements, packed_size<M, R>(a), pack<M, R>,
        [&](long t0, int count, float* v, long element_stride) {
            transform_inputs<M, R>(a, tiles, in_stride, t0, count, v, element_stride);
        },
        [&](long t0, int count, const float* m, long p) { transform_outputs<M, R>(a, tiles, out_stride, t0, count, m, p); });
}

bool is_3x3(const Conv2dArgs& a) { return a.kernel_h == 3; }

}  // namespace

bool winograd_2d_applies(const Conv2dArgs& a) {
    if (a.stride_h != 1 || a.stride_w != 1 || a.kernel_h != a.kernel_w) return false;
    return (a.kernel_h == 3 && a.out_w >= kWinograd4x4MinWidth) || a.kernel_h == 5;
}

int winograd_2d_tile(const Conv2dArgs& a) { return is_3x3(a) ? 4 : 2; }

int winograd_2d_elements(const Conv2dArgs& a) { return is_3x3(a) ? Plan<4, 3>::kElements : Plan<2, 5>::kElements; }

std::size_t conv2d_winograd_2d_packed_size_avx512(const Conv2dArgs& a) {
    return is_3x3(a) ? packed_size<4, 3>(a) : packed_size<2, 5>(a);
}

void conv2d_winograd_2d_pack_avx512(const Conv2dArgs& a, void* packed) {
    if (is_3x3(a))
        pack<4, 3>(a, packed);
    else
        pack<2, 5>(a, packed);
}

void conv2d_winograd_2d_avx512(const Conv2dArgs& a) {
    if (is_3x3(a))
        run<4, 3>(a);
    else
        run<2, 5>(a);
}

}  // namespace tinception::kernels
