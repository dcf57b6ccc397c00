// What every Winograd convolution shares, over any ISA's micro-kernel G (gemm_tile_*.hpp): the
// driver over blocks of tiles and panels of output channels, and its multiply step, one GEMM
// per transform element over the input channels. Each kernel brings its own tiling and
// transforms. Internal linkage: each ISA file compiles its own copy with its own flags.
#pragma once
#include <cstring>
#include <cstddef>

#include "conv2d_gemm_common.hpp"
#include "gemm_tile_job.hpp"
#include "kernel_table.hpp"

namespace tinception::kernels {
namespace {

// The reduction over in_c is cut at fixed offsets, like the direct kernel's K: the summation
// order of an output depends on in_c alone, never on how the call was split.
constexpr int kWinogradChunkC = 256;

// m[t][e][PW] = sum_ic v[e * element_stride + t * in_c + ic] * panel[e][ic][PW] for the
// `count` tiles of a block and each of the `elements` transform elements; `panel` is one
// output-channel panel of the packed weights, [elements][in_c][PW], PW = G::kPanelWidth.
template <class G>
void multiply_transformed(const float* v, long element_stride, const float* panel, int elements,
                                 long in_c, int count, float* m) {
    if (in_c == 0) {
        std::memset(m, 0, sizeof(float) * std::size_t(count) * std::size_t(elements) * G::kPanelWidth);
        return;
    }
    for (long k0 = 0; k0 < in_c; k0 += kWinogradChunkC) {
        const long chunk = in_c - k0 < kWinogradChunkC ? in_c - k0 : kWinogradChunkC;
        for (int e = 0; e < elements; ++e) {
            TileJob<typename G::S> t;
            t.lda = in_c;
            t.b = panel + (e * in_c + k0) * G::kPanelWidth;
            t.k_len = chunk;
            t.ldc = long(elements) * G::kPanelWidth;
            t.bias = nullptr;
            t.mask0 = t.mask1 = G::S::mask(G::S::kLanes);
            t.first = k0 == 0;
            t.last = false;
            t.relu = false;
            for_each_row_tile<G::kTileRows>(count, [&](int r0, int rows) {
                t.a = v + e * element_stride + long(r0) * in_c + k0;
                t.c = m + (long(r0) * elements + e) * G::kPanelWidth;
                G::tile(t, rows);
            });
        }
    }
}

// The weights packed here when the caller has not (packed_bytes), then the transformed
// inputs and the products of one block, sized for a full block of tiles so every cut fits.
template <class G>
std::size_t winograd_workspace_size(const Conv2dArgs& a, int elements, std::size_t packed_bytes) {
    const std::size_t block = std::size_t(G::kWinogradBlockTiles) * std::size_t(elements);
    return (a.packed ? 0 : scratch_bytes(packed_bytes / sizeof(float))) +
           scratch_bytes(block * std::size_t(a.in_c) + 16) + scratch_bytes(block * G::kPanelWidth);
}

// The convolution `a` as `total` tiles of `elements` transform elements each, with weights
// a.packed in the kernel's layout, or packed here by pack(a, buffer) into packed_bytes:
//   inputs(t0, count, v, element_stride) fills v[e * element_stride + t * in_c + ic] for the
//     tiles [t0, t0 + count);
//   outputs(t0, count, m, p) turns m[t][e][G::kPanelWidth] into panel p's outputs of those tiles.
template <class G, typename Pack, typename Inputs, typename Outputs>
void run_winograd(const Conv2dArgs& a, long total, int elements, std::size_t packed_bytes, Pack&& pack,
                  Inputs&& inputs, Outputs&& outputs) {
    if (total <= 0 || a.out_c <= 0) return;
    ScratchCursor scratch(a.workspace);
    const float* packed = static_cast<const float*>(a.packed);
    if (!packed) {
        float* packed_here = scratch.take(packed_bytes / sizeof(float));
        pack(a, packed_here);
        packed = packed_here;
    }
    // Blocks of equal size, so the last one is not a sliver that reloads every weight.
    const long blocks = (total + G::kWinogradBlockTiles - 1) / G::kWinogradBlockTiles;
    const int block_cap = int((total + blocks - 1) / blocks);
    const long element_stride = long(block_cap) * a.in_c;
    float* v = scratch.take(std::size_t(elements) * std::size_t(element_stride) + 16);
    float* m = scratch.take(std::size_t(block_cap) * std::size_t(elements) * G::kPanelWidth);
    const long panels = (a.out_c + G::kPanelWidth - 1) / G::kPanelWidth;
    for (long b = 0; b < blocks; ++b) {
        const long t0 = total * b / blocks;
        const int count = int(total * (b + 1) / blocks - t0);
        if (count <= 0) continue;
        if (a.in_c > 0) inputs(t0, count, v, element_stride);
        for (long p = 0; p < panels; ++p) {
            multiply_transformed<G>(v, element_stride, packed + p * elements * a.in_c * G::kPanelWidth, elements, a.in_c,
                                 count, m);
            outputs(t0, count, m, p);
        }
    }
}

// Calls fn(c0, mask, bias) for the two vectors of panel p that hold output channels: c0 the
// first channel, mask its lanes below out_c, bias those channels' bias.
template <class G, typename Fn>
void for_each_panel_half(const Conv2dArgs& a, long p, Fn&& fn) {
    using S = typename G::S;
    for (int h = 0; h < 2; ++h) {
        const int c0 = int(p * G::kPanelWidth) + h * S::kLanes;
        if (c0 >= a.out_c) continue;
        const typename S::Mask mask = S::mask(a.out_c - c0);
        fn(c0, mask, a.bias ? S::load(mask, a.bias + c0) : S::zero());
    }
}

}  // namespace
}  // namespace tinception::kernels
