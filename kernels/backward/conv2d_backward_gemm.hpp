// Convolution backward as packed GEMMs over any ISA's forward micro-kernel G (gemm_tile_*.hpp),
// one block of G::kBlockRows output pixels at a time, with g the masked output gradient
// (grad_output, zero where a fused ReLU's output was not > 0) and K ordered (ky, kx, ic):
//   weights: dW^T[K][out_c] += patches^T[K][pixels] * g[pixels][out_c]  (im2col, transposed)
//   input:   dPatches[pixels][K] = g[pixels][out_c] * W[out_c][K], scattered back by col2im
//            (a 1x1 stride-1 unpadded layer writes straight into grad_input instead)
//   bias:    the column sums of g.
// Internal linkage: each ISA file compiles its own copy with its own flags.
#pragma once
#include <cstring>

#include "backward/backward_kernels.hpp"
#include "conv2d_gemm_common.hpp"
#include "gemm_tile_job.hpp"

namespace tinception::kernels {
namespace {

// Floats of each workspace piece, in the order conv2d_backward_gemm takes them.
template <class G>
struct BackwardPieces {
    explicit BackwardPieces(const Conv2dArgs& f) {
        const std::size_t k = std::size_t(reduction_length(f)), oc = std::size_t(f.out_c);
        const std::size_t rows = std::size_t(G::kBlockRows), width = std::size_t(G::kPanelWidth);
        weight_panels = (k + width - 1) / width * width * oc;
        grad_block = rows * oc;
        patches = rows * k;  // im2col rows, then the block's patch gradient
        patches_t = k * rows;
        grad_panels = (oc + width - 1) / width * width * rows;
        grad_weights_t = k * oc;
    }
    std::size_t weight_panels, grad_block, patches, patches_t, grad_panels, grad_weights_t;
};

template <class G>
std::size_t conv2d_backward_gemm_workspace_size(const Conv2dBackwardArgs& a) {
    const BackwardPieces<G> p(a.forward);
    return scratch_bytes(p.weight_panels) + scratch_bytes(p.grad_block) + scratch_bytes(p.patches) +
           scratch_bytes(p.patches_t) + scratch_bytes(p.grad_panels) + scratch_bytes(p.grad_weights_t);
}

// A 1x1 stride-1 unpadded layer whose every input pixel is an output pixel: its patch
// gradient is the input gradient itself.
inline bool input_grad_in_place(const Conv2dArgs& f) {
    return f.kernel_h == 1 && f.kernel_w == 1 && f.stride_h == 1 && f.stride_w == 1 && f.pad_top == 0 &&
           f.pad_left == 0 && f.out_h == f.in_h && f.out_w == f.in_w;
}

// packed[q][oc][j] = w[oc][ic][ky][kx] for k = q*Width + j = (ky*kernel_w + kx)*in_c + ic; zero past K.
template <int Width>
void pack_weights_by_reduction(const Conv2dArgs& f, float* packed) {
    const long k_len = reduction_length(f);
    const long panels = (k_len + Width - 1) / Width;
    for (long q = 0; q < panels; ++q)
        for (int oc = 0; oc < f.out_c; ++oc) {
            float* row = packed + (q * f.out_c + oc) * Width;
            for (int j = 0; j < Width; ++j) {
                const long k = q * Width + j;
                if (k >= k_len) {
                    row[j] = 0.0f;
                    continue;
                }
                const long ic = k % f.in_c, tap = k / f.in_c;
                row[j] = f.weights[((oc * long(f.in_c) + ic) * f.kernel_h + tap / f.kernel_w) * f.kernel_w +
                                   tap % f.kernel_w];
            }
        }
}

// dst[p][offset..] (+)= src rows of the block: the patch gradient of rows [first, first + rows)
// added back onto the input pixels each tap read (taps outside the input are dropped).
inline void col2im_rows(const Conv2dBackwardArgs& a, long first, int rows, const float* patch_grad) {
    const Conv2dArgs& f = a.forward;
    const long gi_stride = a.grad_input_pixel_stride ? a.grad_input_pixel_stride : f.in_c;
    const long k_len = reduction_length(f);
    const long image_pixels = long(f.out_h) * f.out_w;
    for (int r = 0; r < rows; ++r) {
        const long m = first + r;
        const long b = m / image_pixels;
        const int y = int((m % image_pixels) / f.out_w), x = int(m % f.out_w);
        const float* src = patch_grad + r * k_len;
        for (int ky = 0; ky < f.kernel_h; ++ky) {
            const int iy = y * f.stride_h + ky - f.pad_top;
            for (int kx = 0; kx < f.kernel_w; ++kx, src += f.in_c) {
                const int ix = x * f.stride_w + kx - f.pad_left;
                if (iy < 0 || iy >= f.in_h || ix < 0 || ix >= f.in_w) continue;
                float* dst = a.grad_input + ((b * f.in_h + iy) * f.in_w + ix) * gi_stride;
                for (int c = 0; c < f.in_c; ++c) dst[c] += src[c];
            }
        }
    }
}

template <class G>
void conv2d_backward_gemm(const Conv2dBackwardArgs& a) {
    using S = typename G::S;
    constexpr int W = G::kPanelWidth;
    const Conv2dArgs& f = a.forward;
    const long k_len = reduction_length(f);
    const long pixels = long(f.n) * f.out_h * f.out_w;
    const long g_stride = a.grad_output_pixel_stride ? a.grad_output_pixel_stride : f.out_c;
    const long out_stride = f.out_pixel_stride ? f.out_pixel_stride : f.out_c;
    const long gi_stride = a.grad_input_pixel_stride ? a.grad_input_pixel_stride : f.in_c;
    const bool in_place = input_grad_in_place(f);
    const BackwardPieces<G> sizes(f);
    ScratchCursor scratch(a.workspace);
    float* weight_panels = scratch.take(sizes.weight_panels);
    float* grad_block = scratch.take(sizes.grad_block);
    float* patches = scratch.take(sizes.patches);
    float* patches_t = scratch.take(sizes.patches_t);
    float* grad_panels = scratch.take(sizes.grad_panels);
    float* grad_weights_t = scratch.take(sizes.grad_weights_t);

    if (a.grad_bias)
        for (int oc = 0; oc < f.out_c; ++oc) a.grad_bias[oc] = 0.0f;
    if (a.grad_weights)
        std::memset(a.grad_weights, 0, sizeof(float) * std::size_t(k_len) * std::size_t(f.out_c));
    if (a.grad_input && !a.accumulate_input && !in_place)
        for (long p = 0; p < long(f.n) * f.in_h * f.in_w; ++p)
            std::memset(a.grad_input + p * gi_stride, 0, sizeof(float) * std::size_t(f.in_c));
    if (pixels <= 0 || f.out_c <= 0 || k_len <= 0) return;
    if (a.grad_input) pack_weights_by_reduction<W>(f, weight_panels);

    for (long m0 = 0; m0 < pixels; m0 += G::kBlockRows) {
        const int rows = int(pixels - m0 < G::kBlockRows ? pixels - m0 : G::kBlockRows);
        for (int r = 0; r < rows; ++r)
            for (int oc = 0; oc < f.out_c; ++oc) {
                const long pixel = m0 + r;
                const bool live = !f.relu || f.output[pixel * out_stride + oc] > 0.0f;
                grad_block[long(r) * f.out_c + oc] = live ? a.grad_output[pixel * g_stride + oc] : 0.0f;
            }
        if (a.grad_bias)
            for (int r = 0; r < rows; ++r)
                for (int oc = 0; oc < f.out_c; ++oc) a.grad_bias[oc] += grad_block[long(r) * f.out_c + oc];

        if (a.grad_weights) {
            const long in_stride = f.in_pixel_stride ? f.in_pixel_stride : f.in_c;
            im2col_rows<typename G::S>(f, in_stride, m0, rows, patches);
            for (int r = 0; r < rows; ++r)
                for (long k = 0; k < k_len; ++k) patches_t[k * rows + r] = patches[r * k_len + k];
            const long panels = panel_count<W>(f);
            for (long p = 0; p < panels; ++p)
                for (int r = 0; r < rows; ++r)
                    for (int j = 0; j < W; ++j) {
                        const long oc = p * W + j;
                        grad_panels[(p * rows + r) * W + j] = oc < f.out_c ? grad_block[r * long(f.out_c) + oc] : 0.0f;
                    }
            for (long p = 0; p < panels; ++p) {
                TileJob<S> t;
                t.lda = rows;
                t.b = grad_panels + p * rows * W;
                t.k_len = rows;
                t.ldc = f.out_c;
                t.bias = nullptr;
                t.mask0 = S::mask(int(f.out_c - p * W));
                t.mask1 = S::mask(int(f.out_c - p * W - S::kLanes));
                t.first = m0 == 0;
                t.last = true;
                t.relu = false;
                for_each_row_tile<G::kTileRows>(int(k_len), [&](int r0, int tile_rows) {
                    t.a = patches_t + long(r0) * rows;
                    t.c = grad_weights_t + long(r0) * f.out_c + p * W;
                    G::tile(t, tile_rows);
                });
            }
        }

        if (a.grad_input) {
            float* patch_grad = in_place ? a.grad_input + m0 * gi_stride : patches;
            const long ld = in_place ? gi_stride : k_len;
            for (long q = 0; q * W < k_len; ++q) {
                TileJob<S> t;
                t.lda = f.out_c;
                t.b = weight_panels + q * f.out_c * W;
                t.k_len = f.out_c;
                t.ldc = ld;
                t.bias = nullptr;
                t.mask0 = S::mask(int(k_len - q * W));
                t.mask1 = S::mask(int(k_len - q * W - S::kLanes));
                t.first = !(in_place && a.accumulate_input);  // in place and adding: start from what is there
                t.last = true;
                t.relu = false;
                for_each_row_tile<G::kTileRows>(rows, [&](int r0, int tile_rows) {
                    t.a = grad_block + long(r0) * f.out_c;
                    t.c = patch_grad + r0 * ld + q * W;
                    G::tile(t, tile_rows);
                });
            }
            if (!in_place) col2im_rows(a, m0, rows, patches);
        }
    }

    // dW^T[k][oc], k = (ky*kernel_w + kx)*in_c + ic, into OIHW
    if (a.grad_weights)
        for (int oc = 0; oc < f.out_c; ++oc)
            for (int ic = 0; ic < f.in_c; ++ic)
                for (int ky = 0; ky < f.kernel_h; ++ky)
                    for (int kx = 0; kx < f.kernel_w; ++kx) {
                        const long k = (long(ky) * f.kernel_w + kx) * f.in_c + ic;
                        a.grad_weights[((long(oc) * f.in_c + ic) * f.kernel_h + ky) * f.kernel_w + kx] =
                            grad_weights_t[k * f.out_c + oc];
                    }
}

// An ISA's backward table: the reference's, with the convolution on G.
template <class G>
BackwardKernelTable gemm_backward_table(const char* isa_name) {
    BackwardKernelTable t = reference_backward_kernels();
    t.isa_name = isa_name;
    t.conv2d_backward = conv2d_backward_gemm<G>;
    t.conv2d_backward_workspace_size = conv2d_backward_gemm_workspace_size<G>;
    return t;
}

}  // namespace
}  // namespace tinception::kernels
