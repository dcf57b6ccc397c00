// AVX-512 convolution as a packed GEMM: C[pixels][out_c] = A[pixels][K] * B[K][out_c] with
// K ordered (ky, kx, ic) to follow NHWC. Other ops of this table reuse the reference kernels.
#include <immintrin.h>

#include <cstdlib>
#include <cstring>

#include "conv2d_gemm_common.hpp"
#include "fma_peak.hpp"
#include "kernel_table.hpp"
#include "pool2d_simd.hpp"
#include "reference.hpp"

namespace tinception::kernels {
namespace {

// Micro-tile: 14 pixels x 32 output channels = 28 zmm accumulators; per k one weight row
// (two vectors, from the packed panel) and 14 input values broadcast straight from memory.
constexpr int kTileRows = 14;
constexpr int kPanelWidth = 32;
// K is cut into chunks so one panel chunk (256 x 32 floats, 32 KiB) stays in L1/L2 while a
// block of kBlockRows pixels walks over it; the chunk boundaries depend on K alone, so the
// summation order of an output never depends on how the pixels were split into calls.
constexpr int kChunkK = 256;
constexpr int kBlockRows = kTileRows * 8;

long panel_count(const Conv2dArgs& a) { return panel_count<kPanelWidth>(a); }
std::size_t conv2d_packed_size_avx512(const Conv2dArgs& a) { return packed_panels_size<kPanelWidth>(a); }
void conv2d_pack_avx512(const Conv2dArgs& a, void* packed) { pack_panels<kPanelWidth>(a, packed); }

struct TileJob {
    const float* a;   // first pixel row of the tile at this chunk's first k
    long lda;         // floats between pixel rows of A
    const float* b;   // packed panel chunk, [k_len][32]
    long k_len;
    float* c;         // output of the tile's first pixel at the panel's first channel
    long ldc;
    const float* bias;  // this panel's bias, or nullptr
    __mmask16 mask0, mask1;
    bool first, last, relu;
};

template <int Rows>
void gemm_tile_avx512(const TileJob& t) {
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
    for (long k = 0; k < k_len; ++k, ++a, b += kPanelWidth) {
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

using TileFn = void (*)(const TileJob&);
constexpr TileFn kTileByRows[kTileRows + 1] = {
    nullptr,
    gemm_tile_avx512<1>,  gemm_tile_avx512<2>,  gemm_tile_avx512<3>,  gemm_tile_avx512<4>,
    gemm_tile_avx512<5>,  gemm_tile_avx512<6>,  gemm_tile_avx512<7>,  gemm_tile_avx512<8>,
    gemm_tile_avx512<9>,  gemm_tile_avx512<10>, gemm_tile_avx512<11>, gemm_tile_avx512<12>,
    gemm_tile_avx512<13>, gemm_tile_avx512<14>,
};

__mmask16 lane_mask(int valid) {
    if (valid >= 16) return 0xFFFF;
    if (valid <= 0) return 0;
    return __mmask16((1u << valid) - 1u);
}

// General conv: 1x1 stride-1 unpadded layers whose pixels are evenly spaced read the input
// in place as A; every other shape goes through im2col, one block of pixels at a time.
void conv2d_gemm_avx512(const Conv2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    const long k_len = reduction_length(a);
    const long pixels = long(a.n) * a.out_h * a.out_w;
    if (pixels <= 0 || a.out_c <= 0) return;

    const float* packed = static_cast<const float*>(a.packed);
    float* packed_here = nullptr;
    if (!packed) {
        packed_here = alloc_floats(conv2d_packed_size_avx512(a) / sizeof(float));
        conv2d_pack_avx512(a, packed_here);
        packed = packed_here;
    }
    const bool pointwise = reads_input_in_place(a);
    float* patches = pointwise ? nullptr : alloc_floats(std::size_t(kBlockRows) * k_len);

    for (long m0 = 0; m0 < pixels; m0 += kBlockRows) {
        const int block_rows = int(pixels - m0 < kBlockRows ? pixels - m0 : kBlockRows);
        const float* a_block = a.input + m0 * in_stride;
        long lda = in_stride;
        if (!pointwise) {
            im2col_rows(a, in_stride, m0, block_rows, patches);
            a_block = patches;
            lda = k_len;
        }
        for (long k0 = 0; k0 < k_len; k0 += kChunkK) {
            const long chunk = k_len - k0 < kChunkK ? k_len - k0 : kChunkK;
            for (long p = 0; p < panel_count(a); ++p) {
                const int valid = int(a.out_c - p * kPanelWidth);
                TileJob t;
                t.lda = lda;
                t.b = packed + (p * k_len + k0) * kPanelWidth;
                t.k_len = chunk;
                t.ldc = out_stride;
                t.bias = a.bias ? a.bias + p * kPanelWidth : nullptr;
                t.mask0 = lane_mask(valid);
                t.mask1 = lane_mask(valid - 16);
                t.first = k0 == 0;
                t.last = k0 + chunk == k_len;
                t.relu = a.relu;
                for (int r0 = 0; r0 < block_rows; r0 += kTileRows) {
                    const int rows = block_rows - r0 < kTileRows ? block_rows - r0 : kTileRows;
                    t.a = a_block + r0 * lda + k0;
                    t.c = a.output + (m0 + r0) * out_stride + p * kPanelWidth;
                    kTileByRows[rows](t);
                }
            }
        }
    }
    std::free(patches);
    std::free(packed_here);
}

}  // namespace

const KernelTable* avx512_kernels() {
    static const KernelTable table = [] {
        KernelTable t = reference_kernels();
        t.isa_name = "avx512";
        t.conv2d = conv2d_gemm_avx512;
        t.conv2d_packed_size = conv2d_packed_size_avx512;
        t.conv2d_pack = conv2d_pack_avx512;
        t.conv2d_panel_width = kPanelWidth;
        t.fma_peak = fma_peak_avx512;
        t.maxpool2d = maxpool2d_nhwc_avx512;
        t.avgpool2d = avgpool2d_nhwc_avx512;
        return t;
    }();
    return &table;
}

}  // namespace tinception::kernels
