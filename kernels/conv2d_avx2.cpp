// AVX2+FMA convolution as a packed GEMM: C[pixels][out_c] = A[pixels][K] * B[K][out_c] with
// K ordered (ky, kx, ic) to follow NHWC. Other ops of this table reuse the reference kernels.
#include <immintrin.h>

#include <cstdlib>
#include <cstring>

#include "conv2d_gemm_common.hpp"
#include "conv2d_winograd_common.hpp"
#include "fma_peak.hpp"
#include "kernel_table.hpp"
#include "pool2d_simd.hpp"
#include "reference.hpp"

namespace tinception::kernels {
namespace {

// Micro-tile: 6 pixels x 16 output channels = 12 ymm accumulators; per k one weight row
// (two vectors, from the packed panel) and 6 input values broadcast straight from memory.
constexpr int kTileRows = 6;
constexpr int kPanelWidth = 16;
// K is cut into chunks so one panel chunk (256 x 16 floats, 16 KiB) stays in L1 while a
// block of kBlockRows pixels walks over it; the chunk boundaries depend on K alone, so the
// summation order of an output never depends on how the pixels were split into calls.
constexpr int kChunkK = 256;
constexpr int kBlockRows = kTileRows * 16;

long panel_count(const Conv2dArgs& a) { return panel_count<kPanelWidth>(a); }
std::size_t conv2d_packed_size_avx2(const Conv2dArgs& a) { return packed_panels_size<kPanelWidth>(a); }
void conv2d_pack_avx2(const Conv2dArgs& a, void* packed) { pack_panels<kPanelWidth>(a, packed); }

struct TileJob {
    const float* a;   // first pixel row of the tile at this chunk's first k
    long lda;         // floats between pixel rows of A
    const float* b;   // packed panel chunk, [k_len][16]
    long k_len;
    float* c;         // output of the tile's first pixel at the panel's first channel
    long ldc;
    const float* bias;  // this panel's bias, or nullptr
    __m256i mask0, mask1;  // lanes below out_c
    bool first, last, relu;
};

// Twelve named accumulators rather than an array: GCC 12 keeps an array of __m256 in
// registers but also stores it to the stack on every k step, halving the FMA rate. A tile
// of fewer than 6 rows repeats its last row in the spare lanes of work and stores only its own.
void gemm_tile_avx2(const TileJob& t, int rows) {
    const long lda = t.lda;
    const float* a0 = t.a;
    const float* a1 = t.a + (rows > 1 ? 1 : 0) * lda;
    const float* a2 = t.a + (rows > 2 ? 2 : rows - 1) * lda;
    const float* a3 = t.a + (rows > 3 ? 3 : rows - 1) * lda;
    const float* a4 = t.a + (rows > 4 ? 4 : rows - 1) * lda;
    const float* a5 = t.a + (rows > 5 ? 5 : rows - 1) * lda;
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
        c00 = _mm256_maskload_ps(c, t.mask0), c01 = _mm256_maskload_ps(c + 8, t.mask1);
        c10 = _mm256_maskload_ps(c + r1 * ldc, t.mask0), c11 = _mm256_maskload_ps(c + r1 * ldc + 8, t.mask1);
        c20 = _mm256_maskload_ps(c + r2 * ldc, t.mask0), c21 = _mm256_maskload_ps(c + r2 * ldc + 8, t.mask1);
        c30 = _mm256_maskload_ps(c + r3 * ldc, t.mask0), c31 = _mm256_maskload_ps(c + r3 * ldc + 8, t.mask1);
        c40 = _mm256_maskload_ps(c + r4 * ldc, t.mask0), c41 = _mm256_maskload_ps(c + r4 * ldc + 8, t.mask1);
        c50 = _mm256_maskload_ps(c + r5 * ldc, t.mask0), c51 = _mm256_maskload_ps(c + r5 * ldc + 8, t.mask1);
    }
    const float* b = t.b;
    const long k_len = t.k_len;
    for (long k = 0; k < k_len; ++k, b += kPanelWidth) {
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
    _mm256_maskstore_ps(c, t.mask0, c00), _mm256_maskstore_ps(c + 8, t.mask1, c01);
    if (rows > 1) _mm256_maskstore_ps(c + ldc, t.mask0, c10), _mm256_maskstore_ps(c + ldc + 8, t.mask1, c11);
    if (rows > 2) _mm256_maskstore_ps(c + 2 * ldc, t.mask0, c20), _mm256_maskstore_ps(c + 2 * ldc + 8, t.mask1, c21);
    if (rows > 3) _mm256_maskstore_ps(c + 3 * ldc, t.mask0, c30), _mm256_maskstore_ps(c + 3 * ldc + 8, t.mask1, c31);
    if (rows > 4) _mm256_maskstore_ps(c + 4 * ldc, t.mask0, c40), _mm256_maskstore_ps(c + 4 * ldc + 8, t.mask1, c41);
    if (rows > 5) _mm256_maskstore_ps(c + 5 * ldc, t.mask0, c50), _mm256_maskstore_ps(c + 5 * ldc + 8, t.mask1, c51);
}

// Masked loads and stores cover the channel tail: lane j is live when j < valid.
__m256i lane_mask(int valid) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), lanes);
}

// General conv: 1x1 stride-1 unpadded layers whose pixels are evenly spaced read the input
// in place as A; every other shape goes through im2col, one block of pixels at a time.
void conv2d_gemm_avx2(const Conv2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    const long k_len = reduction_length(a);
    const long pixels = long(a.n) * a.out_h * a.out_w;
    if (pixels <= 0 || a.out_c <= 0) return;

    const float* packed = static_cast<const float*>(a.packed);
    float* packed_here = nullptr;
    if (!packed) {
        packed_here = alloc_floats(conv2d_packed_size_avx2(a) / sizeof(float));
        conv2d_pack_avx2(a, packed_here);
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
                t.mask1 = lane_mask(valid - 8);
                t.first = k0 == 0;
                t.last = k0 + chunk == k_len;
                t.relu = a.relu;
                for_each_row_tile<kTileRows>(block_rows, [&](int r0, int rows) {
                    t.a = a_block + r0 * lda + k0;
                    t.c = a.output + (m0 + r0) * out_stride + p * kPanelWidth;
                    gemm_tile_avx2(t, rows);
                });
            }
        }
    }
    std::free(patches);
    std::free(packed_here);
}

// Winograd F(2x2, 3x3) for 3x3 stride-1 layers (see conv2d_winograd_avx512.cpp for the
// algebra): input tiles transformed with B^T d B, 16 GEMMs [tiles][in_c] x [in_c][16] per
// panel with the micro-kernel above, then A^T m A, bias and ReLU.
constexpr int kWinogradBlockTiles = kTileRows * 8;
constexpr int kWinogradChunkC = 256;  // fixed reduction cuts: the order depends on in_c alone
// Below this many input channels the 16 short GEMMs and the transforms cost what they save
// (measured: 32 -> 32 at 147x147 breaks even, 17 -> 33 is slower).
constexpr int kWinogradMinInC = 32;

// In_c, like the kernel and stride, is the same for every band and channel group of a layer.
bool winograd_applies_avx2(const Conv2dArgs& a) { return winograd_applies(a) && a.in_c >= kWinogradMinInC; }

void winograd_inputs_avx2(const Conv2dArgs& a, long in_stride, long t0, int count, int tiles_w,
                          long per_image, float* v, long element_stride) {
    const __m256 zero = _mm256_setzero_ps();
    for (int t = 0; t < count; ++t) {
        const long g = t0 + t;
        const long img = g / per_image;
        const int y0 = 2 * int(g % per_image / tiles_w) - a.pad_top;
        const int x0 = 2 * int(g % per_image % tiles_w) - a.pad_left;
        const float* px[4][4];
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) {
                const int iy = y0 + i, ix = x0 + j;
                px[i][j] = iy < 0 || iy >= a.in_h || ix < 0 || ix >= a.in_w
                               ? nullptr
                               : a.input + ((img * a.in_h + iy) * a.in_w + ix) * in_stride;
            }
        float* out = v + long(t) * a.in_c;
        for (int c0 = 0; c0 < a.in_c; c0 += 8) {
            const __m256i m = lane_mask(a.in_c - c0);
            __m256 d[4][4];
            for (int i = 0; i < 4; ++i)
                for (int j = 0; j < 4; ++j) d[i][j] = px[i][j] ? _mm256_maskload_ps(px[i][j] + c0, m) : zero;
            __m256 r[4][4];  // B^T d
            for (int j = 0; j < 4; ++j) {
                r[0][j] = _mm256_sub_ps(d[0][j], d[2][j]);
                r[1][j] = _mm256_add_ps(d[1][j], d[2][j]);
                r[2][j] = _mm256_sub_ps(d[2][j], d[1][j]);
                r[3][j] = _mm256_sub_ps(d[1][j], d[3][j]);
            }
            for (int i = 0; i < 4; ++i) {  // (B^T d) B
                float* o = out + long(i * 4) * element_stride + c0;
                _mm256_maskstore_ps(o, m, _mm256_sub_ps(r[i][0], r[i][2]));
                _mm256_maskstore_ps(o + element_stride, m, _mm256_add_ps(r[i][1], r[i][2]));
                _mm256_maskstore_ps(o + 2 * element_stride, m, _mm256_sub_ps(r[i][2], r[i][1]));
                _mm256_maskstore_ps(o + 3 * element_stride, m, _mm256_sub_ps(r[i][1], r[i][3]));
            }
        }
    }
}

void winograd_outputs_avx2(const Conv2dArgs& a, long out_stride, long t0, int count, int tiles_w,
                           long per_image, const float* m_block, long p) {
    const __m256 zero = _mm256_setzero_ps();
    for (int h = 0; h < 2; ++h) {
        const int c0 = int(p * kPanelWidth) + h * 8;
        if (c0 >= a.out_c) continue;
        const __m256i mask = lane_mask(a.out_c - c0);
        const __m256 bias = a.bias ? _mm256_maskload_ps(a.bias + c0, mask) : zero;
        for (int t = 0; t < count; ++t) {
            const float* mt = m_block + long(t) * kWinogradElements * kPanelWidth + h * 8;
            __m256 s0[4], s1[4];  // A^T m
            for (int j = 0; j < 4; ++j) {
                const __m256 m0 = _mm256_loadu_ps(mt + (0 * 4 + j) * kPanelWidth);
                const __m256 m1 = _mm256_loadu_ps(mt + (1 * 4 + j) * kPanelWidth);
                const __m256 m2 = _mm256_loadu_ps(mt + (2 * 4 + j) * kPanelWidth);
                const __m256 m3 = _mm256_loadu_ps(mt + (3 * 4 + j) * kPanelWidth);
                s0[j] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
                s1[j] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
            }
            __m256 y[2][2];  // (A^T m) A
            y[0][0] = _mm256_add_ps(_mm256_add_ps(s0[0], s0[1]), s0[2]);
            y[0][1] = _mm256_sub_ps(_mm256_sub_ps(s0[1], s0[2]), s0[3]);
            y[1][0] = _mm256_add_ps(_mm256_add_ps(s1[0], s1[1]), s1[2]);
            y[1][1] = _mm256_sub_ps(_mm256_sub_ps(s1[1], s1[2]), s1[3]);
            const long g = t0 + t;
            const long img = g / per_image;
            const int oy0 = 2 * int(g % per_image / tiles_w), ox0 = 2 * int(g % per_image % tiles_w);
            for (int i = 0; i < 2 && oy0 + i < a.out_h; ++i)
                for (int j = 0; j < 2 && ox0 + j < a.out_w; ++j) {
                    __m256 r = _mm256_add_ps(y[i][j], bias);
                    if (a.relu) r = _mm256_max_ps(r, zero);
                    float* o = a.output + ((img * a.out_h + oy0 + i) * a.out_w + ox0 + j) * out_stride + c0;
                    _mm256_maskstore_ps(o, mask, r);
                }
        }
    }
}

void conv2d_winograd_avx2(const Conv2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    if (a.n <= 0 || a.out_h <= 0 || a.out_w <= 0 || a.out_c <= 0) return;
    const int tiles_w = (a.out_w + 1) / 2;
    const long per_image = long((a.out_h + 1) / 2) * tiles_w;
    const long total = a.n * per_image;
    const float* packed = static_cast<const float*>(a.packed);
    float* packed_here = nullptr;
    if (!packed) {
        packed_here = alloc_floats(winograd_packed_size<kPanelWidth>(a) / sizeof(float));
        winograd_pack<kPanelWidth>(a, packed_here);
        packed = packed_here;
    }
    const long blocks = (total + kWinogradBlockTiles - 1) / kWinogradBlockTiles;
    const int block_cap = int((total + blocks - 1) / blocks);
    const long k_len = a.in_c;
    const long element_stride = long(block_cap) * k_len;
    float* v = alloc_floats(std::size_t(kWinogradElements) * std::size_t(element_stride) + 8);
    float* m = alloc_floats(std::size_t(block_cap) * kWinogradElements * kPanelWidth);
    const long panels = panel_count(a);
    for (long b = 0; b < blocks; ++b) {
        const long t0 = total * b / blocks;
        const int count = int(total * (b + 1) / blocks - t0);
        if (count <= 0) continue;
        if (k_len > 0) winograd_inputs_avx2(a, in_stride, t0, count, tiles_w, per_image, v, element_stride);
        for (long p = 0; p < panels; ++p) {
            if (k_len == 0) std::memset(m, 0, sizeof(float) * std::size_t(count) * kWinogradElements * kPanelWidth);
            for (long k0 = 0; k0 < k_len; k0 += kWinogradChunkC) {
                const long chunk = k_len - k0 < kWinogradChunkC ? k_len - k0 : kWinogradChunkC;
                for (int e = 0; e < kWinogradElements; ++e) {
                    TileJob t;
                    t.lda = k_len;
                    t.b = packed + ((p * kWinogradElements + e) * k_len + k0) * kPanelWidth;
                    t.k_len = chunk;
                    t.ldc = kWinogradElements * kPanelWidth;
                    t.bias = nullptr;
                    t.mask0 = t.mask1 = lane_mask(8);
                    t.first = k0 == 0;
                    t.last = false;
                    t.relu = false;
                    for_each_row_tile<kTileRows>(count, [&](int r0, int rows) {
                        t.a = v + e * element_stride + long(r0) * k_len + k0;
                        t.c = m + (long(r0) * kWinogradElements + e) * kPanelWidth;
                        gemm_tile_avx2(t, rows);
                    });
                }
            }
            winograd_outputs_avx2(a, out_stride, t0, count, tiles_w, per_image, m, p);
        }
    }
    std::free(m);
    std::free(v);
    std::free(packed_here);
}

// The table's entries: 3x3 stride-1 layers with enough input channels take the Winograd path and its packed layout,
// every other shape the packed GEMM above.
void conv2d_avx2(const Conv2dArgs& a) {
    if (winograd_applies_avx2(a))
        conv2d_winograd_avx2(a);
    else
        conv2d_gemm_avx2(a);
}

std::size_t conv2d_packed_size_any_avx2(const Conv2dArgs& a) {
    return winograd_applies_avx2(a) ? winograd_packed_size<kPanelWidth>(a) : conv2d_packed_size_avx2(a);
}

void conv2d_pack_any_avx2(const Conv2dArgs& a, void* packed) {
    if (winograd_applies_avx2(a))
        winograd_pack<kPanelWidth>(a, packed);
    else
        conv2d_pack_avx2(a, packed);
}

// Both layouts are panel-major; a Winograd panel holds 16 transformed taps per input channel.
std::size_t conv2d_packed_offset_avx2(const Conv2dArgs& a, int first_channel) {
    const long per_channel = winograd_applies_avx2(a) ? long(kWinogradElements) * a.in_c : reduction_length(a);
    return std::size_t(first_channel) * std::size_t(per_channel);
}

// Winograd bands start on even rows, so their 2x2 tiles sit where the uncut call's do.
int conv2d_row_alignment_avx2(const Conv2dArgs& a) { return winograd_applies_avx2(a) ? 2 : 1; }

}  // namespace

const KernelTable* avx2_kernels() {
    static const KernelTable table = [] {
        KernelTable t = reference_kernels();
        t.isa_name = "avx2";
        t.conv2d = conv2d_avx2;
        t.conv2d_packed_size = conv2d_packed_size_any_avx2;
        t.conv2d_pack = conv2d_pack_any_avx2;
        t.conv2d_packed_offset = conv2d_packed_offset_avx2;
        t.conv2d_panel_width = kPanelWidth;
        t.conv2d_row_alignment = conv2d_row_alignment_avx2;
        t.fma_peak = fma_peak_avx2;
        t.maxpool2d = maxpool2d_nhwc_avx2;
        t.avgpool2d = avgpool2d_nhwc_avx2;
        return t;
    }();
    return &table;
}

}  // namespace tinception::kernels
