// What every Winograd convolution shares, over any ISA's micro-kernel G (gemm_tile_*.hpp): the
// driver over blocks of tiles and panels of output channels, and its multiply step, one GEMM
// per transform element over the input channels. Each kernel brings its own tiling and
// transforms. Internal linkage: each ISA file compiles its own copy with its own flags.
#pragma once
#include <cstdint>
#include <cstring>
#include <cstddef>

#include "bf16/bf16.hpp"
#include "conv2d_gemm_common.hpp"
#include "gemm_tile_job.hpp"
#include "kernel_table.hpp"

namespace tinception::kernels {
namespace {

// The reduction over in_c is cut at fixed offsets, like the direct kernel's K: the summation
// order of an output depends on in_c alone, never on how the call was split.
constexpr int kWinogradChunkC = 256;

// The products' operands are 32-bit slots: one fp32 value each, or with G::kValuesPerSlot = 2
// a pair of bf16 values of consecutive input channels (G's multiply-add then sums both
// products into one fp32 lane, vdpbf16ps). Such a G needs an even in_c.
template <class G>
long slots_of(long in_c) {
    return in_c / G::kValuesPerSlot;
}

// Bytes of Winograd weights packed as [rows][in_c][PW] values, PW = G::kPanelWidth.
template <class G>
std::size_t winograd_packed_bytes(std::size_t rows, long in_c) {
    return rows * std::size_t(slots_of<G>(in_c)) * G::kPanelWidth * sizeof(float);
}

// packed[row][ic][j] = u, in G's slots: row-major [row][ic / 2][j][ic % 2] in bf16 for pairs.
template <class G>
void store_packed_weight(void* packed, long row, long in_c, int ic, long j, float u) {
    if constexpr (G::kValuesPerSlot == 1) {
        static_cast<float*>(packed)[(row * in_c + ic) * G::kPanelWidth + j] = u;
    } else {
        static_assert(G::kValuesPerSlot == 2, "slots hold one fp32 value or two bf16");
        const long slot = (row * slots_of<G>(in_c) + ic / 2) * G::kPanelWidth + j;
        static_cast<std::uint16_t*>(packed)[2 * slot + ic % 2] = bf16::from_float(u);
    }
}

// m[t][e][PW] = sum_ic v[e * element_stride + t * in_c + ic] * panel[e][ic][PW] for the
// `count` tiles of a block and each of the `elements` transform elements; `panel` is one
// output-channel panel of the packed weights, [elements][in_c][PW], PW = G::kPanelWidth; in_c
// and element_stride counted in slots.
// While the first tile of each chunk runs, the next chunk is fetched: the next element's,
// then the next chunk of input channels, then `next_panel`'s first (nullptr: none). A chunk's
// length of rows from any of these stays inside the packed weights: every Winograd has two
// elements or more, and a panel's first chunk is its longest.
template <class G>
void multiply_transformed(const float* v, long element_stride, const float* panel, int elements,
                                 long in_c, int count, float* m, const float* next_panel) {
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
            const float* next = e + 1 < elements  ? t.b + in_c * G::kPanelWidth
                                : k0 + chunk < in_c ? panel + (k0 + chunk) * G::kPanelWidth
                                                    : next_panel;
            for_each_row_tile<G::kTileRows>(count, [&](int r0, int rows) {
                t.a = v + e * element_stride + long(r0) * in_c + k0;
                t.c = m + (long(r0) * elements + e) * G::kPanelWidth;
                t.prefetch = r0 == 0 ? next : nullptr;
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
    const long in_slots = slots_of<G>(a.in_c);
    for (long b = 0; b < blocks; ++b) {
        const long t0 = total * b / blocks;
        const int count = int(total * (b + 1) / blocks - t0);
        if (count <= 0) continue;
        if (a.in_c > 0) {
            inputs(t0, count, v, element_stride);
            // Each element's fp32 values into slots where they stand (v[e] keeps its start).
            if constexpr (G::kValuesPerSlot != 1)
                for (int e = 0; e < elements; ++e) G::to_slots(v + e * element_stride, long(count) * a.in_c);
        }
        for (long p = 0; p < panels; ++p) {
            const long panel_slots = elements * in_slots * G::kPanelWidth;
            multiply_transformed<G>(v, element_stride, packed + p * panel_slots, elements, in_slots, count, m,
                                    p + 1 < panels ? packed + (p + 1) * panel_slots : nullptr);
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
