// The AVX-512 packed-GEMM micro-kernel behind every convolution of this table (direct and
// Winograd): C[rows][32] (+)= A[rows][k_len] * B[k_len][32], optionally seeded with a bias
// and finished with ReLU. Included only by *_avx512.cpp files; internal linkage throughout.
#pragma once
#include <immintrin.h>

#include "conv2d_path.hpp"
#include "gemm_tile_job.hpp"
#include "kernel_table.hpp"
#include "simd_avx512.hpp"

namespace tinception::kernels {
namespace {

// What the ISA-generic drivers (conv2d_gemm_driver.hpp, winograd_driver.hpp) need of this ISA.
// Micro-tile: 14 pixels x 32 output channels = 28 zmm accumulators; per k one weight row
// (two vectors, from the packed panel) and 14 input values broadcast straight from memory.
struct GemmTile14x32Avx512 {
    using S = Avx512;
    static constexpr int kTileRows = 14;
    static constexpr int kPanelWidth = 32;
    static constexpr int kBlockRows = kTileRows * 8;  // pixels im2col'ed and multiplied together
    // Winograd tiles transformed and multiplied together: enough rows for the micro-kernel to
    // reuse each weight row several times, few enough that the transformed inputs stay near.
    static constexpr int kWinogradBlockTiles = kTileRows * 4;
    static constexpr int kWinogradMinInC = kAvx512WinogradMinInC;
    static constexpr int kValuesPerSlot = 1;  // fp32 operands (winograd_driver.hpp)
    static void tile(const TileJob<S>& t, int rows);
};

template <int Rows>
void gemm_tile_14x32_avx512(const TileJob<Avx512>& t) {
    __m512 acc0[Rows], acc1[Rows];
    if (t.first) {
        const __m512 b0 = t.bias ? _mm512_maskz_loadu_ps(t.mask0, t.bias) : _mm512_setzero_ps();
        const __m512 b1 = t.bias ? _mm512_maskz_loadu_ps(t.mask1, t.bias + 16) : _mm512_setzero_ps();
        for (int i = 0; i < Rows; ++i) acc0[i] = b0, acc1[i] = b1;
    } else {
        for (int i = 0; i < Rows; ++i) {
            acc0[i] = _mm512_maskz_loadu_ps(t.mask0, t.c + i * t.ldc);
            acc1[i] = _mm512_maskz_loadu_ps(t.mask1, t.c + i * t.ldc + 16);
        }
    }
    const float* a = t.a;
    const float* b = t.b;
    const long lda = t.lda;
    const long k_len = t.k_len;  // a local, so the loop bound is not re-read from memory
    const float* next = t.prefetch;
    for (long k = 0; k < k_len; ++k, ++a, b += GemmTile14x32Avx512::kPanelWidth) {
        if (next) Avx512::prefetch_panel_row(next + k * GemmTile14x32Avx512::kPanelWidth);
        const __m512 w0 = _mm512_loadu_ps(b);
        const __m512 w1 = _mm512_loadu_ps(b + 16);
        for (int i = 0; i < Rows; ++i) {
            const __m512 x = _mm512_set1_ps(a[i * lda]);
            acc0[i] = _mm512_fmadd_ps(x, w0, acc0[i]);
            acc1[i] = _mm512_fmadd_ps(x, w1, acc1[i]);
        }
    }
    if (t.last && t.relu) {
        // The zero-masking form: GCC 12 flags the undefined pass-through of _mm512_max_ps.
        const __m512 zero = _mm512_setzero_ps();
        for (int i = 0; i < Rows; ++i) {
            acc0[i] = _mm512_maskz_max_ps(0xFFFF, acc0[i], zero);
            acc1[i] = _mm512_maskz_max_ps(0xFFFF, acc1[i], zero);
        }
    }
    for (int i = 0; i < Rows; ++i) {
        _mm512_mask_storeu_ps(t.c + i * t.ldc, t.mask0, acc0[i]);
        _mm512_mask_storeu_ps(t.c + i * t.ldc + 16, t.mask1, acc1[i]);
    }
}

using TileFn = void (*)(const TileJob<Avx512>&);
constexpr TileFn kTileByRows[GemmTile14x32Avx512::kTileRows + 1] = {
    nullptr,
    gemm_tile_14x32_avx512<1>,  gemm_tile_14x32_avx512<2>,  gemm_tile_14x32_avx512<3>,  gemm_tile_14x32_avx512<4>,
    gemm_tile_14x32_avx512<5>,  gemm_tile_14x32_avx512<6>,  gemm_tile_14x32_avx512<7>,  gemm_tile_14x32_avx512<8>,
    gemm_tile_14x32_avx512<9>,  gemm_tile_14x32_avx512<10>, gemm_tile_14x32_avx512<11>, gemm_tile_14x32_avx512<12>,
    gemm_tile_14x32_avx512<13>, gemm_tile_14x32_avx512<14>,
};

inline void GemmTile14x32Avx512::tile(const TileJob<Avx512>& t, int rows) { kTileByRows[rows](t); }

}  // namespace
}  // namespace tinception::kernels
