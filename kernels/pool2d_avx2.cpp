// AVX2 max and average pooling, NHWC: 8 channels per vector along the contiguous channel
// axis, the window clipped to the input once per output pixel; channels past the last full
// vector take a short scalar loop. Sums in float, in the reference's tap order.
#include <immintrin.h>

#include "kernel_table.hpp"
#include "pool2d_simd.hpp"

namespace tinception::kernels {
namespace {

template <bool kMax>
void pool2d_nhwc_avx2(const Pool2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.c;
    const float lowest = -__builtin_inff();
    const int full = a.c / 8 * 8;
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
                float* out = a.output + ((long(b) * a.out_h + y) * a.out_w + x) * out_stride;
                for (int c = 0; c < full; c += 8) {
                    __m256 acc = kMax ? _mm256_set1_ps(lowest) : _mm256_setzero_ps();
                    for (int ky = ky0; ky < ky1; ++ky)
                        for (int kx = kx0; kx < kx1; ++kx) {
                            const __m256 v =
                                _mm256_loadu_ps(image + (long(y0 + ky) * a.in_w + (x0 + kx)) * in_stride + c);
                            // max(v, acc) keeps acc when v is NaN, as the reference's v > best does
                            acc = kMax ? _mm256_max_ps(v, acc) : _mm256_add_ps(acc, v);
                        }
                    if (!kMax)
                        acc = divisor > 0 ? _mm256_div_ps(acc, _mm256_set1_ps(float(divisor))) : _mm256_setzero_ps();
                    _mm256_storeu_ps(out + c, acc);
                }
                for (int c = full; c < a.c; ++c) {
                    float acc = kMax ? lowest : 0.0f;
                    for (int ky = ky0; ky < ky1; ++ky)
                        for (int kx = kx0; kx < kx1; ++kx) {
                            const float v = image[(long(y0 + ky) * a.in_w + (x0 + kx)) * in_stride + c];
                            if (kMax) acc = v > acc ? v : acc;
                            else acc += v;
                        }
                    if (!kMax) acc = divisor > 0 ? acc / float(divisor) : 0.0f;
                    out[c] = acc;
                }
            }
        }
    }
}

}  // namespace

void maxpool2d_nhwc_avx2(const Pool2dArgs& a) { pool2d_nhwc_avx2<true>(a); }
void avgpool2d_nhwc_avx2(const Pool2dArgs& a) { pool2d_nhwc_avx2<false>(a); }

}  // namespace tinception::kernels
