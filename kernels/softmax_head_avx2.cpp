// The softmax head's two loops with AVX2 (kernel_table.hpp): the eight running sums of a dot
// product are two registers' lanes, so the bits are the reference's. Four rows at a time: one
// row's chains of additions would wait on each in turn.
#include <immintrin.h>

#include <cstddef>

#include "softmax_head.hpp"

namespace tinception::kernels {
namespace {

// z[r * classes] = dot(x[r], w) for Rows rows.
template <int Rows>
void dots(const float* const* x, const double* w, int n, int classes, double* z) {
    __m256d low[Rows], high[Rows];  // sums 0-3 and 4-7 of each row
#pragma GCC unroll 4
    for (int r = 0; r < Rows; ++r) low[r] = high[r] = _mm256_setzero_pd();
    int j = 0;
    for (; j + 8 <= n; j += 8) {  // exact products: fused or not, one rounding per sum
        const __m256d w_low = _mm256_loadu_pd(w + j), w_high = _mm256_loadu_pd(w + j + 4);
#pragma GCC unroll 4
        for (int r = 0; r < Rows; ++r) {
            low[r] = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(x[r] + j)), w_low, low[r]);
            high[r] = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(x[r] + j + 4)), w_high, high[r]);
        }
    }
    for (int r = 0; r < Rows; ++r) {
        double sum = 0;
        for (int t = j; t < n; ++t) sum += double(x[r][t]) * w[t];
        alignas(32) double part[8];
        _mm256_store_pd(part, low[r]);
        _mm256_store_pd(part + 4, high[r]);
        for (const double p : part) sum += p;
        z[r * classes] = sum;
    }
}

}  // namespace

void head_dots_avx2(const float* const* x, int rows, const double* w, int classes, int n, double* z) {
    for (int c = 0; c < classes; ++c) {
        const double* wc = w + std::size_t(c) * std::size_t(n);
        int r = 0;
        for (; r + 4 <= rows; r += 4) dots<4>(x + r, wc, n, classes, z + r * classes + c);
        for (; r < rows; ++r) dots<1>(x + r, wc, n, classes, z + r * classes + c);
    }
}

// Each class's outputs 16 at a time in four registers, every row added into them in order,
// then stored: the outputs are read and written once, not once a row.
void head_outer_avx2(const float* const* x, const double* g, int rows, int classes, int n, double* out) {
    for (int c = 0; c < classes; ++c) {
        double* o = out + std::size_t(c) * std::size_t(n);
        int j = 0;
        for (; j + 16 <= n; j += 16) {
            __m256d acc[4];
#pragma GCC unroll 4
            for (int k = 0; k < 4; ++k) acc[k] = _mm256_loadu_pd(o + j + 4 * k);
            for (int r = 0; r < rows; ++r) {
                const __m256d scale = _mm256_set1_pd(g[r * classes + c]);
#pragma GCC unroll 4
                for (int k = 0; k < 4; ++k) {
                    __m256d product = _mm256_mul_pd(scale, _mm256_cvtps_pd(_mm_loadu_ps(x[r] + j + 4 * k)));
                    asm("" : "+x"(product));  // rounded here, as the reference does: no fused multiply-add
                    acc[k] = _mm256_add_pd(acc[k], product);
                }
            }
#pragma GCC unroll 4
            for (int k = 0; k < 4; ++k) _mm256_storeu_pd(o + j + 4 * k, acc[k]);
        }
        for (; j < n; ++j)
            for (int r = 0; r < rows; ++r) o[j] += rounded_product(g[r * classes + c], double(x[r][j]));
    }
}

}  // namespace tinception::kernels
