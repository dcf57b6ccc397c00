// The AArch64 NEON packed-GEMM micro-kernel behind every convolution of this table (direct and
// Winograd): C[rows][8] (+)= A[rows][k_len] * B[k_len][8], optionally seeded with a bias and
// finished with ReLU. Included only by *_neon.cpp files; internal linkage throughout.
#pragma once
#include <arm_neon.h>

#include "conv2d_path.hpp"
#include "gemm_tile_job.hpp"
#include "simd_neon.hpp"

namespace tinception::kernels {
namespace {

// What the ISA-generic drivers (conv2d_gemm_driver.hpp, winograd_driver.hpp) need of this ISA.
// Micro-tile: 8 pixels x 8 output channels = 16 accumulators. Per 4 k steps: four panel rows
// (8 vectors) and one 4-float load per pixel whose lanes feed fmla by element, so 64 fmla per
// 16 loads in 25 of the 32 vector registers. The panel is two vectors wide because TileJob's
// is; a taller tile would not leave four panel rows in registers beside its accumulators.
struct GemmTile8x8Neon {
    using S = Neon;
    static constexpr int kTileRows = 8;
    static constexpr int kPanelWidth = 8;
    static constexpr int kBlockRows = kTileRows * 16;  // pixels im2col'ed and multiplied together
    static constexpr int kWinogradBlockTiles = kTileRows * 8;
    static constexpr int kWinogradMinInC = kNeonWinogradMinInC;
    static constexpr int kValuesPerSlot = 1;  // fp32 operands (winograd_driver.hpp)
    static void tile(const TileJob<S>& t, int rows);
};

// c0, c1 (one pixel's 8 channels) += w[2j], w[2j+1] (panel row k + j) times a[j] for j = 0..3,
// in ascending k as every ISA's kernel sums.
inline void fma_4k(float32x4_t& c0, float32x4_t& c1, const float* a, const float32x4_t (&w)[8]) {
    const float32x4_t x = vld1q_f32(a);
    c0 = vfmaq_laneq_f32(c0, w[0], x, 0), c1 = vfmaq_laneq_f32(c1, w[1], x, 0);
    c0 = vfmaq_laneq_f32(c0, w[2], x, 1), c1 = vfmaq_laneq_f32(c1, w[3], x, 1);
    c0 = vfmaq_laneq_f32(c0, w[4], x, 2), c1 = vfmaq_laneq_f32(c1, w[5], x, 2);
    c0 = vfmaq_laneq_f32(c0, w[6], x, 3), c1 = vfmaq_laneq_f32(c1, w[7], x, 3);
}

inline void fma_1k(float32x4_t& c0, float32x4_t& c1, const float* a, float32x4_t w0, float32x4_t w1) {
    const float32x4_t x = vld1q_dup_f32(a);
    c0 = vfmaq_f32(c0, w0, x), c1 = vfmaq_f32(c1, w1, x);
}

// Sixteen named accumulators, as in gemm_tile_6x16_avx2.hpp, so none lives in memory. A tile of
// fewer than 8 rows repeats its last row in the spare accumulators and stores only its own.
void gemm_tile_8x8_neon(const TileJob<Neon>& t, int rows) {
    const auto row = [rows](long i) { return i < rows ? i : long(rows) - 1; };
    const long lda = t.lda;
    const float* a0 = t.a;
    const float* a1 = t.a + row(1) * lda;
    const float* a2 = t.a + row(2) * lda;
    const float* a3 = t.a + row(3) * lda;
    const float* a4 = t.a + row(4) * lda;
    const float* a5 = t.a + row(5) * lda;
    const float* a6 = t.a + row(6) * lda;
    const float* a7 = t.a + row(7) * lda;
    float32x4_t c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
    if (t.first) {
        const float32x4_t b0 = t.bias ? Neon::load(t.mask0, t.bias) : Neon::zero();
        const float32x4_t b1 = t.bias ? Neon::load(t.mask1, t.bias + 4) : Neon::zero();
        c00 = c10 = c20 = c30 = c40 = c50 = c60 = c70 = b0;
        c01 = c11 = c21 = c31 = c41 = c51 = c61 = c71 = b1;
    } else {
        // rows past the tile reload its last row; their results are never stored
        const float* c = t.c;
        const long ldc = t.ldc;
        c00 = Neon::load(t.mask0, c), c01 = Neon::load(t.mask1, c + 4);
        c10 = Neon::load(t.mask0, c + row(1) * ldc), c11 = Neon::load(t.mask1, c + row(1) * ldc + 4);
        c20 = Neon::load(t.mask0, c + row(2) * ldc), c21 = Neon::load(t.mask1, c + row(2) * ldc + 4);
        c30 = Neon::load(t.mask0, c + row(3) * ldc), c31 = Neon::load(t.mask1, c + row(3) * ldc + 4);
        c40 = Neon::load(t.mask0, c + row(4) * ldc), c41 = Neon::load(t.mask1, c + row(4) * ldc + 4);
        c50 = Neon::load(t.mask0, c + row(5) * ldc), c51 = Neon::load(t.mask1, c + row(5) * ldc + 4);
        c60 = Neon::load(t.mask0, c + row(6) * ldc), c61 = Neon::load(t.mask1, c + row(6) * ldc + 4);
        c70 = Neon::load(t.mask0, c + row(7) * ldc), c71 = Neon::load(t.mask1, c + row(7) * ldc + 4);
    }
    const float* b = t.b;
    const long k_len = t.k_len;
    long k = 0;
    for (; k + 4 <= k_len; k += 4, b += 4 * GemmTile8x8Neon::kPanelWidth) {
        float32x4_t w[8];
        for (int i = 0; i < 8; ++i) w[i] = vld1q_f32(b + 4 * i);
        fma_4k(c00, c01, a0 + k, w);
        fma_4k(c10, c11, a1 + k, w);
        fma_4k(c20, c21, a2 + k, w);
        fma_4k(c30, c31, a3 + k, w);
        fma_4k(c40, c41, a4 + k, w);
        fma_4k(c50, c51, a5 + k, w);
        fma_4k(c60, c61, a6 + k, w);
        fma_4k(c70, c71, a7 + k, w);
    }
    for (; k < k_len; ++k, b += GemmTile8x8Neon::kPanelWidth) {  // the last k_len % 4 steps
        const float32x4_t w0 = vld1q_f32(b), w1 = vld1q_f32(b + 4);
        fma_1k(c00, c01, a0 + k, w0, w1);
        fma_1k(c10, c11, a1 + k, w0, w1);
        fma_1k(c20, c21, a2 + k, w0, w1);
        fma_1k(c30, c31, a3 + k, w0, w1);
        fma_1k(c40, c41, a4 + k, w0, w1);
        fma_1k(c50, c51, a5 + k, w0, w1);
        fma_1k(c60, c61, a6 + k, w0, w1);
        fma_1k(c70, c71, a7 + k, w0, w1);
    }
    if (t.last && t.relu) {
        c00 = Neon::relu(c00), c01 = Neon::relu(c01), c10 = Neon::relu(c10), c11 = Neon::relu(c11);
        c20 = Neon::relu(c20), c21 = Neon::relu(c21), c30 = Neon::relu(c30), c31 = Neon::relu(c31);
        c40 = Neon::relu(c40), c41 = Neon::relu(c41), c50 = Neon::relu(c50), c51 = Neon::relu(c51);
        c60 = Neon::relu(c60), c61 = Neon::relu(c61), c70 = Neon::relu(c70), c71 = Neon::relu(c71);
    }
    float* c = t.c;
    const long ldc = t.ldc;
    Neon::store(c, t.mask0, c00), Neon::store(c + 4, t.mask1, c01);
    if (rows > 1) Neon::store(c + ldc, t.mask0, c10), Neon::store(c + ldc + 4, t.mask1, c11);
    if (rows > 2) Neon::store(c + 2 * ldc, t.mask0, c20), Neon::store(c + 2 * ldc + 4, t.mask1, c21);
    if (rows > 3) Neon::store(c + 3 * ldc, t.mask0, c30), Neon::store(c + 3 * ldc + 4, t.mask1, c31);
    if (rows > 4) Neon::store(c + 4 * ldc, t.mask0, c40), Neon::store(c + 4 * ldc + 4, t.mask1, c41);
    if (rows > 5) Neon::store(c + 5 * ldc, t.mask0, c50), Neon::store(c + 5 * ldc + 4, t.mask1, c51);
    if (rows > 6) Neon::store(c + 6 * ldc, t.mask0, c60), Neon::store(c + 6 * ldc + 4, t.mask1, c61);
    if (rows > 7) Neon::store(c + 7 * ldc, t.mask0, c70), Neon::store(c + 7 * ldc + 4, t.mask1, c71);
}

inline void GemmTile8x8Neon::tile(const TileJob<Neon>& t, int rows) { gemm_tile_8x8_neon(t, rows); }

}  // namespace
}  // namespace tinception::kernels
