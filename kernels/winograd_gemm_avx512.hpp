// The multiply step every Winograd convolution of the AVX-512 table shares: for one panel of
// 32 output channels, one GEMM per transform element over the input channels. Internal
// linkage; included only by *_avx512.cpp files.
#pragma once
#include <cstdlib>
#include <cstring>

#include "conv2d_gemm_common.hpp"
#include "gemm_tile_avx512.hpp"

namespace tinception::kernels {
namespace {

// The reduction over in_c is cut at fixed offsets, like the direct kernel's K: the summation
// order of an output depends on in_c alone, never on how the call was split.
constexpr int kWinogradChunkC = 256;

// m[t][e][32] = sum_ic v[e * element_stride + t * in_c + ic] * panel[e][ic][32] for the
// `count` tiles of a block and each of the `elements` transform elements; `panel` is one
// output-channel panel of the packed weights, [elements][in_c][32].
inline void multiply_transformed(const float* v, long element_stride, const float* panel, int elements,
                                 long in_c, int count, float* m) {
    if (in_c == 0) {
        std::memset(m, 0, sizeof(float) * std::size_t(count) * std::size_t(elements) * kPanelWidth);
        return;
    }
    for (long k0 = 0; k0 < in_c; k0 += kWinogradChunkC) {
        const long chunk = in_c - k0 < kWinogradChunkC ? in_c - k0 : kWinogradChunkC;
        for (int e = 0; e < elements; ++e) {
            TileJob t;
            t.lda = in_c;
            t.b = panel + (e * in_c + k0) * kPanelWidth;
            t.k_len = chunk;
            t.ldc = long(elements) * kPanelWidth;
            t.bias = nullptr;
            t.mask0 = t.mask1 = 0xFFFF;
            t.first = k0 == 0;
            t.last = false;
            t.relu = false;
            for_each_row_tile<kTileRows>(count, [&](int r0, int rows) {
                t.a = v + e * element_stride + long(r0) * in_c + k0;
                t.c = m + (long(r0) * elements + e) * kPanelWidth;
                kTileByRows[rows](t);
            });
        }
    }
}

inline float* alloc_aligned_floats(std::size_t count) {
    const std::size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
    return static_cast<float*>(std::aligned_alloc(64, bytes ? bytes : 64));
}

}  // namespace
}  // namespace tinception::kernels
