// Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (Lavin & Gray): each 2x2 block of
// output pixels of one channel is
//   Y = A^T [ sum_ic (G g G^T) .* (B^T d B) ] A
// with d the 4x4 input window of the block and g the 3x3 kernel. The 16 element-wise
// products summed over ic are 16 independent GEMMs [tiles][in_c] x [in_c][out_c], one per
// transform element, run with the packed-GEMM micro-kernel of this table; bias and ReLU are
// applied after the output transform. F(2x2) rather than F(4x4): its transforms hold only
// 0, +-1 and 1/2, so it stays within the accuracy of the direct convolution.
#include "conv2d_winograd_avx512.hpp"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>

#include "conv2d_winograd_common.hpp"
#include "gemm_tile_avx512.hpp"
#include "kernel_table.hpp"
#include "winograd_gemm_avx512.hpp"

namespace tinception::kernels {
namespace {

constexpr int kElements = kWinogradElements;
// Input transform of the tiles [t0, t0 + count): v[e][t][ic] = (B^T d B)[e] with
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
// taps outside the input (any padding, negative pad_top of a row band) read as zero.
void transform_inputs(const Conv2dArgs& a, long in_stride, long t0, int count, int tiles_w,
                      long per_image, float* v, long element_stride) {
    const __m512 zero = _mm512_setzero_ps();
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
        for (int c0 = 0; c0 < a.in_c; c0 += 16) {
            const __mmask16 m = lane_mask(a.in_c - c0);
            __m512 d[4][4];
            for (int i = 0; i < 4; ++i)
                for (int j = 0; j < 4; ++j) d[i][j] = px[i][j] ? _mm512_maskz_loadu_ps(m, px[i][j] + c0) : zero;
            __m512 r[4][4];  // B^T d
            for (int j = 0; j < 4; ++j) {
                r[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
                r[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
                r[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
                r[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
            }
            for (int i = 0; i < 4; ++i) {  // (B^T d) B
                float* o = out + long(i * 4) * element_stride + c0;
                _mm512_mask_storeu_ps(o, m, _mm512_sub_ps(r[i][0], r[i][2]));
                _mm512_mask_storeu_ps(o + element_stride, m, _mm512_add_ps(r[i][1], r[i][2]));
                _mm512_mask_storeu_ps(o + 2 * element_stride, m, _mm512_sub_ps(r[i][2], r[i][1]));
                _mm512_mask_storeu_ps(o + 3 * element_stride, m, _mm512_sub_ps(r[i][1], r[i][3]));
            }
        }
    }
}

// Output transform of one panel: y = A^T m A with A^T = [1 1 1 0; 0 1 -1 -1], then bias,
// ReLU and a store of the block's pixels that lie inside the output.
void transform_outputs(const Conv2dArgs& a, long out_stride, long t0, int count, int tiles_w,
                       long per_image, const float* m_block, long p) {
    const __m512 zero = _mm512_setzero_ps();
    for_each_panel_half(a, p, [&](int c0, __mmask16 mask, __m512 bias) {
        const int lane0 = c0 % kPanelWidth;  // 0 or 16: this half's place in the panel
        for (int t = 0; t < count; ++t) {
            const float* mt = m_block + long(t) * kElements * kPanelWidth + lane0;
            __m512 s0[4], s1[4];  // A^T m
            for (int j = 0; j < 4; ++j) {
                const __m512 m0 = _mm512_loadu_ps(mt + (0 * 4 + j) * kPanelWidth);
                const __m512 m1 = _mm512_loadu_ps(mt + (1 * 4 + j) * kPanelWidth);
                const __m512 m2 = _mm512_loadu_ps(mt + (2 * 4 + j) * kPanelWidth);
                const __m512 m3 = _mm512_loadu_ps(mt + (3 * 4 + j) * kPanelWidth);
                s0[j] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
                s1[j] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
            }
            __m512 y[2][2];  // (A^T m) A
            y[0][0] = _mm512_add_ps(_mm512_add_ps(s0[0], s0[1]), s0[2]);
            y[0][1] = _mm512_sub_ps(_mm512_sub_ps(s0[1], s0[2]), s0[3]);
            y[1][0] = _mm512_add_ps(_mm512_add_ps(s1[0], s1[1]), s1[2]);
            y[1][1] = _mm512_sub_ps(_mm512_sub_ps(s1[1], s1[2]), s1[3]);
            const long g = t0 + t;
            const long img = g / per_image;
            const int oy0 = 2 * int(g % per_image / tiles_w), ox0 = 2 * int(g % per_image % tiles_w);
            for (int i = 0; i < 2; ++i) {
                if (oy0 + i >= a.out_h) break;
                for (int j = 0; j < 2; ++j) {
                    if (ox0 + j >= a.out_w) break;
                    __m512 r = _mm512_add_ps(y[i][j], bias);
                    // The zero-masking form: GCC 12 flags the undefined pass-through of _mm512_max_ps.
                    if (a.relu) r = _mm512_maskz_max_ps(0xFFFF, r, zero);
                    float* o = a.output + ((img * a.out_h + oy0 + i) * a.out_w + ox0 + j) * out_stride + c0;
                    _mm512_mask_storeu_ps(o, mask, r);
                }
            }
        }
    });
}

}  // namespace

bool winograd_f2x2_applies(const Conv2dArgs& a) { return winograd_applies(a); }

std::size_t conv2d_winograd_packed_size_avx512(const Conv2dArgs& a) { return winograd_packed_size<kPanelWidth>(a); }

void conv2d_winograd_pack_avx512(const Conv2dArgs& a, void* packed) { winograd_pack<kPanelWidth>(a, packed); }

void conv2d_winograd_avx512(const Conv2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    if (a.n <= 0 || a.out_h <= 0 || a.out_w <= 0) return;
    const int tiles_h = (a.out_h + 1) / 2, tiles_w = (a.out_w + 1) / 2;
    const long per_image = long(tiles_h) * tiles_w;
    run_winograd(
        a, a.n * per_image, kElements, conv2d_winograd_packed_size_avx512(a), conv2d_winograd_pack_avx512,
        [&](long t0, int count, float* v, long element_stride) {
            transform_inputs(a, in_stride, t0, count, tiles_w, per_image, v, element_stride);
        },
        [&](long t0, int count, const float* m, long p) {
            transform_outputs(a, out_stride, t0, count, tiles_w, per_image, m, p);
        });
}

}  // namespace tinception::kernels
