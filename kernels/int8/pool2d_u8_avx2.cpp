// AVX2 u8 max and average pooling, and float to u8: 16 channels of a pixel at a time, the window's cells
// listed once per output pixel; max in u8 (vpmaxub), sums in u16 (a window of up to 257
// cells cannot overflow; larger windows go to the reference). Then exactly the reference's
// float steps (float(sum) / float(count) * rescale, clamped, rounded half to even), so the
// outputs are bit-identical to pool2d_u8_ref.cpp; the channel tail uses the reference's scalar.
#include <immintrin.h>

#include "int8/int8_kernel_table.hpp"
#include "int8/pool_u8_windows.hpp"

namespace tinception::kernels {
namespace {

// Sixteen floats to u8 as requantize_u8_ref: clamped to [0, 255], rounded half to even
// (vcvtps2dq in the default rounding mode).
__m128i to_u8_16(__m256 lo, __m256 hi) {
    const __m256 zero = _mm256_setzero_ps(), top = _mm256_set1_ps(255.0f);
    const __m256i q0 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(lo, zero), top));
    const __m256i q1 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(hi, zero), top));
    const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
    return _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
}

// (in - offset) / scale as the reference computes it (vsubps, then an IEEE vdivps).
__m256 quotient(const float* in, __m256 offset, __m256 divisor) {
    return _mm256_div_ps(_mm256_sub_ps(_mm256_loadu_ps(in), offset), divisor);
}

__m128i requantize16(__m256i sum_lo, __m256i sum_hi, __m256 divisor, __m256 rescale) {
    const auto value = [&](__m256i sum) {
        return _mm256_mul_ps(_mm256_div_ps(_mm256_cvtepi32_ps(sum), divisor), rescale);
    };
    return to_u8_16(value(sum_lo), value(sum_hi));
}

template <bool is_max>
void pool_u8_avx2(const Pool2dU8Args& a) {
    if (a.kernel_h * a.kernel_w > kMaxU8PoolCells) return is_max ? maxpool2d_u8_ref(a) : avgpool2d_u8_ref(a);
    const __m256 rescale = _mm256_set1_ps(a.rescale);
    for_each_pool_window(a, [&](const std::uint8_t* const* cells, int count, std::uint8_t* out) {
        const __m256 divisor = _mm256_set1_ps(float(count));
        int c = 0;
        for (; c + 16 <= a.c; c += 16) {
            if (is_max) {
                __m128i m = _mm_loadu_si128(reinterpret_cast<const __m128i*>(cells[0] + c));
                for (int k = 1; k < count; ++k)
                    m = _mm_max_epu8(m, _mm_loadu_si128(reinterpret_cast<const __m128i*>(cells[k] + c)));
                if (a.rescale != 1.0f) {
                    m = requantize16(_mm256_cvtepu8_epi32(m), _mm256_cvtepu8_epi32(_mm_srli_si128(m, 8)),
                                     _mm256_set1_ps(1.0f), rescale);
                }
                _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), m);
            } else {
                __m256i sum = _mm256_setzero_si256();
                for (int k = 0; k < count; ++k)
                    sum = _mm256_add_epi16(
                        sum, _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(cells[k] + c))));
                const __m256i lo = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(sum));
                const __m256i hi = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(sum, 1));
                _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), requantize16(lo, hi, divisor, rescale));
            }
        }
        for (; c < a.c; ++c) {
            int max = 0, sum = 0;
            for (int k = 0; k < count; ++k) {
                const int v = cells[k][c];
                max = v > max ? v : max;
                sum += v;
            }
            out[c] = requantize_u8_ref((is_max ? float(max) : float(sum) / float(count)) * a.rescale);
        }
    });
}

}  // namespace

void maxpool2d_u8_avx2(const Pool2dU8Args& a) { pool_u8_avx2<true>(a); }
void avgpool2d_u8_avx2(const Pool2dU8Args& a) { pool_u8_avx2<false>(a); }

// 16 values at a time with the reference's steps, then to_u8_16; RGB to four bytes a pixel 16
// pixels at a time, the 48 bytes spread by vpshufb; other shapes and the tails by the
// reference's scalar.
void quantize_u8_avx2(const float* in, long pixels, int c, float offset, float scale, std::uint8_t* out,
                      int out_stride) {
    const __m256 divisor = _mm256_set1_ps(scale), minus = _mm256_set1_ps(offset);
    long p = 0;
    if (c == out_stride) {
        const long count = pixels * c;
        long i = 0;
        for (; i + 16 <= count; i += 16)
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                             to_u8_16(quotient(in + i, minus, divisor), quotient(in + i + 8, minus, divisor)));
        for (; i < count; ++i) out[i] = requantize_u8_ref((in[i] - offset) / scale);
        return;
    }
    if (c == 3 && out_stride == 4) {
        // Bytes 3k..3k+2 of 12 to 4k..4k+2 of 16, a zero (index -1) in every fourth.
        const __m128i spread = _mm_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1);
        alignas(16) std::uint8_t packed[64] = {};  // the last load reads 4 bytes past the 48
        for (; p + 16 <= pixels; p += 16) {
            const float* from = in + p * 3;
            for (int part = 0; part < 3; ++part)
                _mm_store_si128(reinterpret_cast<__m128i*>(packed + 16 * part),
                                to_u8_16(quotient(from + 16 * part, minus, divisor),
                                         quotient(from + 16 * part + 8, minus, divisor)));
            for (int quarter = 0; quarter < 4; ++quarter)
                _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (p + 4 * quarter) * 4),
                                 _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(packed + 12 * quarter)),
                                                  spread));
        }
    }
    quantize_u8_ref(in + p * c, pixels - p, c, offset, scale, out + p * out_stride, out_stride);
}

}  // namespace tinception::kernels
