// The softmax head's two loops with AVX-512 (kernel_table.hpp): the eight running sums of a
// dot product are one register's lanes, so the bits are the reference's. Eight rows at a time:
// one row's chain of additions would wait on each in turn. Zero-masking conversions: GCC 12
// flags the undefined pass-through of the plain ones.
#include <immintrin.h>

#include <cstddef>

#include "softmax_head.hpp"

namespace tinception::kernels {
namespace {

// z[r * classes] = dot(x[r], w) for Rows rows.
template <int Rows>
void dots(const float* const* x, const double* w, int n, int classes, double* z) {
    __m512d sums[Rows];
#pragma GCC unroll 8
    for (int r = 0; r < Rows; ++r) sums[r] = _mm512_setzero_pd();
    int j = 0;
    for (; j + 8 <= n; j += 8) {  // exact products: fused or not, one rounding per sum
        const __m512d wj = _mm512_loadu_pd(w + j);
#pragma GCC unroll 8
        for (int r = 0; r < Rows; ++r)
            sums[r] = _mm512_fmadd_pd(_mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(x[r] + j)), wj, sums[r]);
    }
    for (int r = 0; r < Rows; ++r) {
        double sum = 0;
        for (int t = j; t < n; ++t) sum += double(x[r][t]) * w[t];
        alignas(64) double part[8];
        _mm512_store_pd(part, sums[r]);
        for (const double p : part) sum += p;
        z[r * classes] = sum;
    }
}

}  // namespace

void head_dots_avx512(const float* const* x, int rows, const double* w, int classes, int n, double* z) {
    for (int c = 0; c < classes; ++c) {
        const double* wc = w + std::size_t(c) * std::size_t(n);
        int r = 0;
        for (; r + 8 <= rows; r += 8) dots<8>(x + r, wc, n, classes, z + r * classes + c);
        for (; r < rows; ++r) dots<1>(x + r, wc, n, classes, z + r * classes + c);
    }
}

// Each class's outputs 32 at a time in four registers, every row added into them in order,
// then stored: the outputs are read and written once, not once a row.
void head_outer_avx512(const float* const* x, const double* g, int rows, int classes, int n, double* out) {
    for (int c = 0; c < classes; ++c) {
        double* o = out + std::size_t(c) * std::size_t(n);
        int j = 0;
        for (; j + 32 <= n; j += 32) {
            __m512d acc[4];
#pragma GCC unroll 4
            for (int k = 0; k < 4; ++k) acc[k] = _mm512_loadu_pd(o + j + 8 * k);
            for (int r = 0; r < rows; ++r) {
                const __m512d scale = _mm512_set1_pd(g[r * classes + c]);
#pragma GCC unroll 4
                for (int k = 0; k < 4; ++k) {
                    __m512d product = _mm512_mul_pd(scale, _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(x[r] + j + 8 * k)));
                    asm("" : "+v"(product));  // rounded here, as the reference does: no fused multiply-add
                    acc[k] = _mm512_add_pd(acc[k], product);
                }
            }
#pragma GCC unroll 4
            for (int k = 0; k < 4; ++k) _mm512_storeu_pd(o + j + 8 * k, acc[k]);
        }
        for (; j < n; ++j)
            for (int r = 0; r < rows; ++r) o[j] += rounded_product(g[r * classes + c], double(x[r][j]));
    }
}

}  // namespace tinception::kernels
