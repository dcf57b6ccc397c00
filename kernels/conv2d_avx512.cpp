// AVX-512 convolution as a packed GEMM: C[pixels][out_c] = A[pixels][K] * B[K][out_c] with
// K ordered (ky, kx, ic) to follow NHWC. Other ops of this table reuse the reference kernels.
#include <immintrin.h>

#include <cstdlib>
#include <cstring>

#include "conv2d_gemm_common.hpp"
#include "conv2d_winograd_avx512.hpp"
#include "fma_peak.hpp"
#include "gemm_tile_avx512.hpp"
#include "kernel_table.hpp"
#include "pool2d_simd.hpp"
#include "reference.hpp"

namespace tinception::kernels {
namespace {

// K is cut into chunks so one panel chunk (256 x 32 floats, 32 KiB) stays in L1/L2 while a
// block of kBlockRows pixels walks over it; the chunk boundaries depend on K alone, so the
// summation order of an output never depends on how the pixels were split into calls.
constexpr int kChunkK = 256;
constexpr int kBlockRows = kTileRows * 8;

long panel_count(const Conv2dArgs& a) { return panel_count<kPanelWidth>(a); }
std::size_t conv2d_packed_size_avx512(const Conv2dArgs& a) { return packed_panels_size<kPanelWidth>(a); }
void conv2d_pack_avx512(const Conv2dArgs& a, void* packed) { pack_panels<kPanelWidth>(a, packed); }

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
                for_each_row_tile<kTileRows>(block_rows, [&](int r0, int rows) {
                    t.a = a_block + r0 * lda + k0;
                    t.c = a.output + (m0 + r0) * out_stride + p * kPanelWidth;
                    kTileByRows[rows](t);
                });
            }
        }
    }
    std::free(patches);
    std::free(packed_here);
}

// The table's entries pick one path per layer from its kernel, stride and width, each path
// with its own packed layout; every cut of a layer keeps these, so packing and every call agree.
enum class Path { gemm, winograd_f2x2, winograd_2d, winograd_1d };

Path path_of(const Conv2dArgs& a) {
    if (winograd_2d_applies(a)) return Path::winograd_2d;
    if (winograd_f2x2_applies(a)) return Path::winograd_f2x2;
    if (winograd_1d_applies(a)) return Path::winograd_1d;
    return Path::gemm;
}

void conv2d_avx512(const Conv2dArgs& a) {
    switch (path_of(a)) {
    case Path::winograd_2d: return conv2d_winograd_2d_avx512(a);
    case Path::winograd_f2x2: return conv2d_winograd_avx512(a);
    case Path::winograd_1d: return conv2d_winograd_1d_avx512(a);
    case Path::gemm: break;
    }
    conv2d_gemm_avx512(a);
}

std::size_t conv2d_packed_size_any_avx512(const Conv2dArgs& a) {
    switch (path_of(a)) {
    case Path::winograd_2d: return conv2d_winograd_2d_packed_size_avx512(a);
    case Path::winograd_f2x2: return conv2d_winograd_packed_size_avx512(a);
    case Path::winograd_1d: return conv2d_winograd_1d_packed_size_avx512(a);
    case Path::gemm: break;
    }
    return conv2d_packed_size_avx512(a);
}

void conv2d_pack_any_avx512(const Conv2dArgs& a, void* packed) {
    switch (path_of(a)) {
    case Path::winograd_2d: return conv2d_winograd_2d_pack_avx512(a, packed);
    case Path::winograd_f2x2: return conv2d_winograd_pack_avx512(a, packed);
    case Path::winograd_1d: return conv2d_winograd_1d_pack_avx512(a, packed);
    case Path::gemm: break;
    }
    conv2d_pack_avx512(a, packed);
}

// Every layout is panel-major: a panel holds, per input channel, the transformed taps
// (Winograd) or the kernel's taps (GEMM).
std::size_t conv2d_packed_offset_avx512(const Conv2dArgs& a, int first_channel) {
    long per_channel = reduction_length(a);
    switch (path_of(a)) {
    case Path::winograd_2d: per_channel = long(winograd_2d_elements(a)) * a.in_c; break;
    case Path::winograd_f2x2: per_channel = 16L * a.in_c; break;
    case Path::winograd_1d: per_channel = long(winograd_1d_elements(a)) * a.in_c; break;
    case Path::gemm: break;
    }
    return std::size_t(first_channel) * std::size_t(per_channel);
}

// Bands start where the uncut call's tiles do.
int conv2d_row_alignment_avx512(const Conv2dArgs& a) {
    switch (path_of(a)) {
    case Path::winograd_2d: return winograd_2d_tile(a);
    case Path::winograd_f2x2: return 2;
    case Path::winograd_1d: return winograd_1d_row_alignment(a);
    case Path::gemm: break;
    }
    return 1;
}

}  // namespace

const KernelTable* avx512_kernels() {
    static const KernelTable table = [] {
        KernelTable t = reference_kernels();
        t.isa_name = "avx512";
        t.conv2d = conv2d_avx512;
        t.conv2d_packed_size = conv2d_packed_size_any_avx512;
        t.conv2d_pack = conv2d_pack_any_avx512;
        t.conv2d_packed_offset = conv2d_packed_offset_avx512;
        t.conv2d_panel_width = kPanelWidth;
        t.conv2d_row_alignment = conv2d_row_alignment_avx512;
        t.fma_peak = fma_peak_avx512;
        t.maxpool2d = maxpool2d_nhwc_avx512;
        t.avgpool2d = avgpool2d_nhwc_avx512;
        return t;
    }();
    return &table;
}

}  // namespace tinception::kernels
