// Convolution as a packed GEMM, C[pixels][out_c] = A[pixels][K] * B[K][out_c] with K ordered
// (ky, kx, ic) to follow NHWC, over any ISA's micro-kernel G (gemm_tile_*.hpp). Internal
// linkage: each ISA file compiles its own copy with its own flags.
#pragma once

#include "conv2d_gemm_common.hpp"
#include "gemm_tile_job.hpp"
#include "kernel_table.hpp"

namespace tinception::kernels {
namespace {

template <class G>
std::size_t gemm_packed_size(const Conv2dArgs& a) {
    return packed_panels_size<G::kPanelWidth>(a);
}

template <class G>
void gemm_pack(const Conv2dArgs& a, void* packed) {
    pack_panels<G::kPanelWidth>(a, packed);
}

// The weights packed here when the caller has not, then one block of im2col rows (sized for
// every shape, though a pointwise layer reads its input in place and leaves it unused).
template <class G>
std::size_t gemm_workspace_size(const Conv2dArgs& a) {
    return (a.packed ? 0 : scratch_bytes(gemm_packed_size<G>(a) / sizeof(float))) +
           scratch_bytes(std::size_t(G::kBlockRows) * std::size_t(reduction_length(a)));
}

// A job's fields for panel p that every path sets alike: output stride, bias, the lanes
// below out_c, ReLU, and A's row stride.
template <class G>
TileJob<typename G::S> panel_job(const Conv2dArgs& a, long p, long out_stride, long lda) {
    using S = typename G::S;
    const int valid = int(a.out_c - p * G::kPanelWidth);
    TileJob<S> t;
    t.lda = lda;
    t.ldc = out_stride;
    t.bias = a.bias ? a.bias + p * G::kPanelWidth : nullptr;
    t.mask0 = S::mask(valid);
    t.mask1 = S::mask(valid - S::kLanes);
    t.relu = a.relu;
    return t;
}

// Output row by output row, each tile of pixels along it takes one job per kernel row, whose
// A rows are the input's runs (reads_rows_in_place) stride_w * in_c floats apart. The tile
// keeps one sum per output and adds k in order, so splitting K at the kernel rows gives the
// im2col path's sums bit for bit.
template <class G>
void gemm_rows_in_place(const Conv2dArgs& a, long out_stride, const float* packed) {
    const long k_len = reduction_length(a), run = long(a.kernel_w) * a.in_c;
    const long panels = panel_count<G::kPanelWidth>(a);
    for (long row = 0; row < long(a.n) * a.out_h; ++row) {
        const long b = row / a.out_h, iy = row % a.out_h * a.stride_h - a.pad_top;
        const float* in_row = a.input + ((b * a.in_h + iy) * a.in_w - a.pad_left) * a.in_c;
        for (long p = 0; p < panels; ++p) {
            auto t = panel_job<G>(a, p, out_stride, long(a.stride_w) * a.in_c);
            t.k_len = run;
            // The first tile fetches the next panel (the first again, for the next row).
            const float* next = packed + (p + 1 < panels ? p + 1 : 0) * k_len * G::kPanelWidth;
            for_each_row_tile<G::kTileRows>(a.out_w, [&](int x0, int rows) {
                t.c = a.output + (row * a.out_w + x0) * out_stride + p * G::kPanelWidth;
                for (int ky = 0; ky < a.kernel_h; ++ky) {
                    t.a = in_row + (long(ky) * a.in_w + long(x0) * a.stride_w) * a.in_c;
                    t.b = packed + (p * k_len + ky * run) * G::kPanelWidth;
                    t.prefetch = x0 == 0 ? next + ky * run * G::kPanelWidth : nullptr;
                    t.first = ky == 0;
                    t.last = ky == a.kernel_h - 1;
                    G::tile(t, rows);
                }
            });
        }
    }
}

// 1x1 stride-1 unpadded layers whose pixels are evenly spaced read the input in place as A,
// layers whose windows stay inside the input read their kernel rows in place; every other
// shape goes through im2col, one block of pixels at a time.
template <class G>
void conv2d_gemm(const Conv2dArgs& a) {
    using S = typename G::S;
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    const long k_len = reduction_length(a);
    const long pixels = long(a.n) * a.out_h * a.out_w;
    if (pixels <= 0 || a.out_c <= 0) return;

    ScratchCursor scratch(a.workspace);
    const float* packed = static_cast<const float*>(a.packed);
    if (!packed) {
        float* packed_here = scratch.take(gemm_packed_size<G>(a) / sizeof(float));
        gemm_pack<G>(a, packed_here);
        packed = packed_here;
    }
    if (reads_rows_in_place(a)) return gemm_rows_in_place<G>(a, out_stride, packed);
    const bool pointwise = reads_input_in_place(a);
    const bool copy_chunks = pointwise && copies_aliased_rows(in_stride);
    float* patches = pointwise && !copy_chunks ? nullptr : scratch.take(std::size_t(G::kBlockRows) * std::size_t(k_len));
    const long panels = panel_count<G::kPanelWidth>(a);

    for (long m0 = 0; m0 < pixels; m0 += G::kBlockRows) {
        const int block_rows = int(pixels - m0 < G::kBlockRows ? pixels - m0 : G::kBlockRows);
        const float* a_block = a.input + m0 * in_stride;
        long lda = in_stride;
        if (!pointwise) {
            im2col_rows<S>(a, in_stride, m0, block_rows, patches);
            a_block = patches;
            lda = k_len;
        }
        for (long k0 = 0; k0 < k_len; k0 += kGemmChunkK) {
            const long chunk = k_len - k0 < kGemmChunkK ? k_len - k0 : kGemmChunkK;
            const float* chunk_a = a_block + k0;  // row r at chunk_a + r * chunk_lda
            long chunk_lda = lda;
            if (copy_chunks) {
                for (int r = 0; r < block_rows; ++r)
                    copy_run<S>(chunk_a + r * lda, int(chunk), patches + r * chunk);
                chunk_a = patches;
                chunk_lda = chunk;
            }
            for (long p = 0; p < panels; ++p) {
                auto t = panel_job<G>(a, p, out_stride, chunk_lda);
                t.b = packed + (p * k_len + k0) * G::kPanelWidth;
                t.k_len = chunk;
                t.first = k0 == 0;
                t.last = k0 + chunk == k_len;
                // The first tile fetches `chunk` rows of what comes next: the next panel's
                // chunk; after the last panel the next chunk's first panel (a shorter last
                // chunk runs on into the second panel; a lone panel's is not fetched); after
                // the last chunk the next block's start.
                const float* next = nullptr;
                if (p + 1 < panels)
                    next = t.b + k_len * G::kPanelWidth;
                else if (k0 + chunk < k_len)
                    next = panels > 1 || k0 + 2 * chunk <= k_len ? packed + (k0 + chunk) * G::kPanelWidth : nullptr;
                else if (m0 + block_rows < pixels)
                    next = packed;
                for_each_row_tile<G::kTileRows>(block_rows, [&](int r0, int rows) {
                    t.a = chunk_a + r0 * chunk_lda;
                    t.c = a.output + (m0 + r0) * out_stride + p * G::kPanelWidth;
                    t.prefetch = r0 == 0 ? next : nullptr;
                    G::tile(t, rows);
                });
            }
        }
    }
}

}  // namespace
}  // namespace tinception::kernels
