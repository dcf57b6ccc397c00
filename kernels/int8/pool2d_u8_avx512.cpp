// AVX-512 u8 max and average pooling for the VNNI table: pool2d_u8_avx2.cpp's method on
// vectors twice as wide, with masked loads and stores for the channel tail instead of the
// reference's scalar loop. Max takes 64 channels at a time (vpmaxub), the average 32 (sums in
// u16, pool_u8_windows.hpp). Then the reference's float results (float(sum) / float(count) *
// rescale, clamped, rounded half to even), the division by a reciprocal and one exact
// correction, so the outputs are bit-identical to pool2d_u8_ref.cpp.
#include <immintrin.h>

#include "int8/int8_kernel_table.hpp"
#include "int8/pool_u8_windows.hpp"

namespace tinception::kernels {

// GCC 12's AVX-512 intrinsics pass their builtins a deliberately undefined vector
// (`__Y = __Y`), which its own uninitialized-use warnings then flag (as in
// log2_histogram_avx512.cpp).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace {

// Sixteen floats to u8 as requantize_u8_ref: clamped to [0, 255], rounded half to even
// (vcvtps2dq in the default rounding mode), then narrowed (every value fits a byte).
__m128i to_u8_16(__m512 v) {
    const __m512 clamped = _mm512_min_ps(_mm512_max_ps(v, _mm512_setzero_ps()), _mm512_set1_ps(255.0f));
    return _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(clamped));
}

// Sixteen maxima times the rescale, to u8: the reference's float(max) * rescale.
__m128i rescaled16(__m512i maxima, __m512 rescale) {
    return to_u8_16(_mm512_mul_ps(_mm512_cvtepi32_ps(maxima), rescale));
}

// The same for an average, without the division (vdivps took most of the average's time):
// q = sum * (1 / count), then one correction by the exact remainder, q + (sum - q * count) *
// (1 / count). For every sum of up to 257 cells of u8 this equals the correctly rounded
// float(sum) / float(count), which test_int8_kernels checks exhaustively.
struct Average {
    __m512 count, reciprocal;
    explicit Average(int cells) : count(_mm512_set1_ps(float(cells))), reciprocal(_mm512_set1_ps(1.0f / float(cells))) {}
    __m512 of(__m512i sums) const {
        const __m512 s = _mm512_cvtepi32_ps(sums);
        const __m512 q = _mm512_mul_ps(s, reciprocal);
        return _mm512_fmadd_ps(_mm512_fnmadd_ps(q, count, s), reciprocal, q);
    }
};

// Bytes [16 q, 16 q + 16) of m widened to 32 bits.
template <int Q>
__m512i quarter(__m512i m) {
    return _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(m, Q));
}

// u16 values [16 h, 16 h + 16) of sums widened to 32 bits.
template <int H>
__m512i half(__m512i sums) {
    return _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(sums, H));
}

__mmask64 first_bytes(int count) { return count >= 64 ? ~__mmask64(0) : (__mmask64(1) << count) - 1; }

// The max of 64 channels over the window's cells, rescaled when the scales differ.
void max_64(const std::uint8_t* const* cells, int count, int c, __mmask64 mask, float rescale, std::uint8_t* out) {
    __m512i m = _mm512_maskz_loadu_epi8(mask, cells[0] + c);
    for (int k = 1; k < count; ++k) m = _mm512_max_epu8(m, _mm512_maskz_loadu_epi8(mask, cells[k] + c));
    if (rescale != 1.0f) {
        const __m512 scale = _mm512_set1_ps(rescale);
        const __m128i q0 = rescaled16(quarter<0>(m), scale);
        const __m128i q1 = rescaled16(quarter<1>(m), scale);
        const __m128i q2 = rescaled16(quarter<2>(m), scale);
        const __m128i q3 = rescaled16(quarter<3>(m), scale);
        m = _mm512_inserti32x4(_mm512_inserti32x4(_mm512_inserti32x4(_mm512_castsi128_si512(q0), q1, 1), q2, 2), q3, 3);
    }
    _mm512_mask_storeu_epi8(out + c, mask, m);
}

// The average of 32 channels over the window's cells.
void average_32(const std::uint8_t* const* cells, int count, int c, __mmask32 mask, const Average& average,
                __m512 rescale, std::uint8_t* out) {
    __m512i sum = _mm512_setzero_si512();
    for (int k = 0; k < count; ++k)
        sum = _mm512_add_epi16(sum, _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask, cells[k] + c)));
    const __m128i lo = to_u8_16(_mm512_mul_ps(average.of(half<0>(sum)), rescale));
    const __m128i hi = to_u8_16(_mm512_mul_ps(average.of(half<1>(sum)), rescale));
    _mm256_mask_storeu_epi8(out + c, mask, _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
}

template <bool is_max>
void pool_u8_avx512(const Pool2dU8Args& a) {
    if (a.kernel_h * a.kernel_w > kMaxU8PoolCells) return is_max ? maxpool2d_u8_ref(a) : avgpool2d_u8_ref(a);
    const __m512 rescale = _mm512_set1_ps(a.rescale);
    for_each_pool_window(a, [&](const std::uint8_t* const* cells, int count, std::uint8_t* out) {
        if (is_max) {
            for (int c = 0; c < a.c; c += 64) max_64(cells, count, c, first_bytes(a.c - c), a.rescale, out);
        } else {
            const Average average(count);
            for (int c = 0; c < a.c; c += 32)
                average_32(cells, count, c, __mmask32(first_bytes(a.c - c)), average, rescale, out);
        }
    });
}

}  // namespace

void maxpool2d_u8_avx512(const Pool2dU8Args& a) { pool_u8_avx512<true>(a); }
void avgpool2d_u8_avx512(const Pool2dU8Args& a) { pool_u8_avx512<false>(a); }

#pragma GCC diagnostic pop

}  // namespace tinception::kernels
