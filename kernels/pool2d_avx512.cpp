// AVX-512 max and average pooling, NHWC: 16 channels per vector along the contiguous
// channel axis, the window clipped to the input once per output pixel, a masked last vector
// for channel counts that are not a multiple of 16. Sums in float, in the reference's tap order.
#include <immintrin.h>

#include "kernel_table.hpp"
#include "pool2d_simd.hpp"

namespace tinception::kernels {
namespace {

template <bool kMax>
void pool2d_nhwc_avx512(const Pool2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.c;
    const __m512 lowest = _mm512_set1_ps(-__builtin_inff());
    for (int b = 0; b < a.n; ++b) {
        const float* image = a.input + long(b) * a.in_h * a.in_w * in_stride;
        for (int y = 0; y < a.out_h; ++y) {
            const int y0 = y * a.stride_h - a.pad_top;
            const int ky0 = y0 < 0 ? -y0 : 0;
            const int ky1 = a.in_h - y0 < a.kernel_h ? a.in_h - y0 : a.kernel_h;
            for (int x = 0; x < a.out_w; ++x) {
                const int x0 = x * a.stride_w - a.pad_left;
                const int kx0 = x0 < 0 ? -x0 : 0;
                const int kx1 = a.in_w - x0 < a.kernel_w ? a.in_w - x0 : a.kernel_w;
                const int inside = (ky1 > ky0 && kx1 > kx0) ? (ky1 - ky0) * (kx1 - kx0) : 0;
                const int divisor = a.count_include_pad ? a.kernel_h * a.kernel_w : inside;
                const __m512 scale = _mm512_set1_ps(divisor > 0 ? 1.0f : 0.0f);
                const __m512 denominator = _mm512_set1_ps(divisor > 0 ? float(divisor) : 1.0f);
                float* out = a.output + ((long(b) * a.out_h + y) * a.out_w + x) * out_stride;
                for (int c = 0; c < a.c; c += 16) {
                    const __mmask16 mask = a.c - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (a.c - c)) - 1u);
                    __m512 acc = kMax ? lowest : _mm512_setzero_ps();
                    for (int ky = ky0; ky < ky1; ++ky)
                        for (int kx = kx0; kx < kx1; ++kx) {
                            const __m512 v = _mm512_maskz_loadu_ps(
                                mask, image + (long(y0 + ky) * a.in_w + (x0 + kx)) * in_stride + c);
                            // max(acc, v) keeps acc when v is NaN, as the reference's v > best does;
                            // the zero-masking form because GCC 12 flags _mm512_max_ps's pass-through.
                            acc = kMax ? _mm512_maskz_max_ps(0xFFFF, v, acc) : _mm512_add_ps(acc, v);
                        }
                    if (!kMax) acc = _mm512_mul_ps(_mm512_div_ps(acc, denominator), scale);
                    _mm512_mask_storeu_ps(out + c, mask, acc);
                }
            }
        }
    }
}

}  // namespace

void maxpool2d_nhwc_avx512(const Pool2dArgs& a) { pool2d_nhwc_avx512<true>(a); }
void avgpool2d_nhwc_avx512(const Pool2dArgs& a) { pool2d_nhwc_avx512<false>(a); }

}  // namespace tinception::kernels
