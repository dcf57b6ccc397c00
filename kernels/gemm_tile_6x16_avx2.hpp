// The AVX2+FMA packed-GEMM micro-kernel behind every convolution of this table (direct and
// Winograd): C[rows][16] (+)= A[rows][k_len] * B[k_len][16], optionally seeded with a bias
// and finished with ReLU. Included only by *_avx2.cpp files; internal linkage throughout.
#pragma once
#include <immintrin.h>

#include "conv2d_path.hpp"
#include "gemm_tile_job.hpp"
#include "simd_avx2.hpp"

namespace tinception::kernels {
namespace {

// What the ISA-generic drivers (conv2d_gemm_driver.hpp, winograd_driver.hpp) need of this ISA.
// Micro-tile: 6 pixels x 16 output channels = 12 ymm accumulators; per k one weight row
// (two vectors, from the packed panel) and 6 input values broadcast straight from memory.
struct GemmTile6x16Avx2 {
    using S = Avx2;
    static constexpr int kTileRows = 6;
    static constexpr int kPanelWidth = 16;
    static constexpr int kBlockRows = kTileRows * 16;  // pixels im2col'ed and multiplied together
    // Winograd tiles transformed and multiplied together: enough rows for the micro-kernel to
    // reuse each weight row several times, few enough that the transformed inputs stay near.
    static constexpr int kWinogradBlockTiles = kTileRows * 8;
    static constexpr int kWinogradMinInC = kAvx2WinogradMinInC;
    static constexpr int kValuesPerSlot = 1;  // fp32 operands (winograd_driver.hpp)
    static void tile(const TileJob<S>& t, int rows);
};

// Twelve named accumulators rather than an array: GCC 12 keeps an array of __m256 in
// registers but also stores it to the stack on every k step, halving the FMA rate. A tile
// of fewer than 6 rows repeats its last row in the spare lanes of work and stores only its own.
void gemm_tile_6x16_avx2(const TileJob<Avx2>& t, int rows) {
    const long lda = t.lda;
    const float* a0 = t.a;
    const float* a1 = t.a + (rows > 1 ? 1 : 0) * lda;
    const float* a2 = t.a + (rows > 2 ? 2 : rows - 1) * lda;
    const float* a3 = t.a + (rows > 3 ? 3 : rows - 1) * lda;
    const float* a4 = t.a + (rows > 4 ? 4 : rows - 1) * lda;
    const float* a5 = t.a + (rows > 5 ? 5 : rows - 1) * lda;
    // Masked stores are microcoded and slow on AMD cores (simd_avx2.hpp): a panel whose 16
    // lanes all hold output channels (every panel but a layer's last) stores them plainly.
    const bool full = Avx2::full(t.mask1);
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (t.first) {
        const __m256 b0 = t.bias ? _mm256_maskload_ps(t.bias, t.mask0) : _mm256_setzero_ps();
        const __m256 b1 = t.bias ? _mm256_maskload_ps(t.bias + 8, t.mask1) : _mm256_setzero_ps();
        c00 = c10 = c20 = c30 = c40 = c50 = b0;
        c01 = c11 = c21 = c31 = c41 = c51 = b1;
    } else {
        // rows past the tile reload its last row; their results are never stored
        const long ldc = t.ldc;
        const float* c = t.c;
        const long r1 = rows > 1 ? 1 : 0, r2 = rows > 2 ? 2 : rows - 1, r3 = rows > 3 ? 3 : rows - 1;
        const long r4 = rows > 4 ? 4 : rows - 1, r5 = rows > 5 ? 5 : rows - 1;
        if (full) {
            c00 = _mm256_loadu_ps(c), c01 = _mm256_loadu_ps(c + 8);
            c10 = _mm256_loadu_ps(c + r1 * ldc), c11 = _mm256_loadu_ps(c + r1 * ldc + 8);
            c20 = _mm256_loadu_ps(c + r2 * ldc), c21 = _mm256_loadu_ps(c + r2 * ldc + 8);
            c30 = _mm256_loadu_ps(c + r3 * ldc), c31 = _mm256_loadu_ps(c + r3 * ldc + 8);
            c40 = _mm256_loadu_ps(c + r4 * ldc), c41 = _mm256_loadu_ps(c + r4 * ldc + 8);
            c50 = _mm256_loadu_ps(c + r5 * ldc), c51 = _mm256_loadu_ps(c + r5 * ldc + 8);
        } else {
            c00 = _mm256_maskload_ps(c, t.mask0), c01 = _mm256_maskload_ps(c + 8, t.mask1);
            c10 = _mm256_maskload_ps(c + r1 * ldc, t.mask0), c11 = _mm256_maskload_ps(c + r1 * ldc + 8, t.mask1);
            c20 = _mm256_maskload_ps(c + r2 * ldc, t.mask0), c21 = _mm256_maskload_ps(c + r2 * ldc + 8, t.mask1);
            c30 = _mm256_maskload_ps(c + r3 * ldc, t.mask0), c31 = _mm256_maskload_ps(c + r3 * ldc + 8, t.mask1);
            c40 = _mm256_maskload_ps(c + r4 * ldc, t.mask0), c41 = _mm256_maskload_ps(c + r4 * ldc + 8, t.mask1);
            c50 = _mm256_maskload_ps(c + r5 * ldc, t.mask0), c51 = _mm256_maskload_ps(c + r5 * ldc + 8, t.mask1);
        }
    }
    const float* b = t.b;
    const long k_len = t.k_len;
    const float* next = t.prefetch;
    for (long k = 0; k < k_len; ++k, b += GemmTile6x16Avx2::kPanelWidth) {
        if (next) Avx2::prefetch_panel_row(next + k * GemmTile6x16Avx2::kPanelWidth);
        const __m256 w0 = _mm256_loadu_ps(b);
        const __m256 w1 = _mm256_loadu_ps(b + 8);
        __m256 x = _mm256_broadcast_ss(a0 + k);
        c00 = _mm256_fmadd_ps(x, w0, c00), c01 = _mm256_fmadd_ps(x, w1, c01);
        x = _mm256_broadcast_ss(a1 + k);
        c10 = _mm256_fmadd_ps(x, w0, c10), c11 = _mm256_fmadd_ps(x, w1, c11);
        x = _mm256_broadcast_ss(a2 + k);
        c20 = _mm256_fmadd_ps(x, w0, c20), c21 = _mm256_fmadd_ps(x, w1, c21);
        x = _mm256_broadcast_ss(a3 + k);
        c30 = _mm256_fmadd_ps(x, w0, c30), c31 = _mm256_fmadd_ps(x, w1, c31);
        x = _mm256_broadcast_ss(a4 + k);
        c40 = _mm256_fmadd_ps(x, w0, c40), c41 = _mm256_fmadd_ps(x, w1, c41);
        x = _mm256_broadcast_ss(a5 + k);
        c50 = _mm256_fmadd_ps(x, w0, c50), c51 = _mm256_fmadd_ps(x, w1, c51);
    }
    if (t.last && t.relu) {
        const __m256 z = _mm256_setzero_ps();
        c00 = _mm256_max_ps(c00, z), c01 = _mm256_max_ps(c01, z), c10 = _mm256_max_ps(c10, z);
        c11 = _mm256_max_ps(c11, z), c20 = _mm256_max_ps(c20, z), c21 = _mm256_max_ps(c21, z);
        c30 = _mm256_max_ps(c30, z), c31 = _mm256_max_ps(c31, z), c40 = _mm256_max_ps(c40, z);
        c41 = _mm256_max_ps(c41, z), c50 = _mm256_max_ps(c50, z), c51 = _mm256_max_ps(c51, z);
    }
    float* c = t.c;
    const long ldc = t.ldc;
    if (full) {
        _mm256_storeu_ps(c, c00), _mm256_storeu_ps(c + 8, c01);
        if (rows > 1) _mm256_storeu_ps(c + ldc, c10), _mm256_storeu_ps(c + ldc + 8, c11);
        if (rows > 2) _mm256_storeu_ps(c + 2 * ldc, c20), _mm256_storeu_ps(c + 2 * ldc + 8, c21);
        if (rows > 3) _mm256_storeu_ps(c + 3 * ldc, c30), _mm256_storeu_ps(c + 3 * ldc + 8, c31);
        if (rows > 4) _mm256_storeu_ps(c + 4 * ldc, c40), _mm256_storeu_ps(c + 4 * ldc + 8, c41);
        if (rows > 5) _mm256_storeu_ps(c + 5 * ldc, c50), _mm256_storeu_ps(c + 5 * ldc + 8, c51);
        return;
    }
    _mm256_maskstore_ps(c, t.mask0, c00), _mm256_maskstore_ps(c + 8, t.mask1, c01);
    if (rows > 1) _mm256_maskstore_ps(c + ldc, t.mask0, c10), _mm256_maskstore_ps(c + ldc + 8, t.mask1, c11);
    if (rows > 2) _mm256_maskstore_ps(c + 2 * ldc, t.mask0, c20), _mm256_maskstore_ps(c + 2 * ldc + 8, t.mask1, c21);
    if (rows > 3) _mm256_maskstore_ps(c + 3 * ldc, t.mask0, c30), _mm256_maskstore_ps(c + 3 * ldc + 8, t.mask1, c31);
    if (rows > 4) _mm256_maskstore_ps(c + 4 * ldc, t.mask0, c40), _mm256_maskstore_ps(c + 4 * ldc + 8, t.mask1, c41);
    if (rows > 5) _mm256_maskstore_ps(c + 5 * ldc, t.mask0, c50), _mm256_maskstore_ps(c + 5 * ldc + 8, t.mask1, c51);
}

inline void GemmTile6x16Avx2::tile(const TileJob<Avx2>& t, int rows) { gemm_tile_6x16_avx2(t, rows); }

}  // namespace
}  // namespace tinception::kernels
