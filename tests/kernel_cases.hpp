// The one table of awkward shapes every kernel test runs, for every kernel table: small on
// purpose, each line probes one edge. Together the convolution rows reach every path of every
// SIMD table (test_kernels.cpp asserts it), including the AVX2 Winograd paths, which start at
// 32 input channels.
#pragma once
#include <string>

#include "conv_geometry.hpp"

namespace tinception::testing {

struct ConvCase {
    int n, in_c, h, w, out_c, kernel_h, kernel_w, stride;
    Padding pad;
    bool relu;
};

inline const ConvCase kConvCases[] = {
    // direct GEMM: im2col, and 1x1 stride-1 layers read in place
    {1, 3, 17, 13, 5, 3, 3, 2, Padding::valid, false},   // stem-like, odd sizes, stride 2
    {1, 3, 17, 13, 5, 3, 3, 2, Padding::same, true},     // 'same', odd input, stride 2
    {3, 3, 12, 15, 32, 3, 3, 2, Padding::same, true},    // stride 2 'same', batch, a full panel
    {3, 8, 6, 6, 7, 3, 3, 2, Padding::valid, true},      // batch 3, even input, stride 2
    {1, 7, 4, 4, 1, 3, 3, 2, Padding::valid, false},     // 1x1 output by stride, one output channel
    {1, 1, 12, 10, 3, 5, 5, 2, Padding::same, false},    // 5x5 stride 2, one input channel
    {1, 40, 7, 7, 24, 3, 3, 2, Padding::same, true},     // im2col with K = 360, beyond one chunk
    {1, 9, 35, 35, 192, 3, 3, 2, Padding::valid, true},  // Inception's reduction: many panels
    {1, 17, 8, 8, 33, 1, 1, 1, Padding::valid, true},    // 1x1, channels around 16 and 32
    {3, 17, 5, 7, 33, 1, 1, 1, Padding::same, true},     // 1x1 in place over a batch
    {2, 24, 8, 8, 130, 1, 1, 1, Padding::valid, false},  // 1x1, a partial last panel
    {1, 33, 5, 7, 17, 1, 1, 2, Padding::same, false},    // 1x1 stride 2: im2col
    {1, 7, 10, 10, 48, 1, 1, 2, Padding::valid, true},   // 1x1 stride 2, 'valid'
    {2, 300, 5, 5, 20, 1, 1, 1, Padding::same, true},    // 1x1 with K beyond one chunk
    {2, 1024, 8, 9, 40, 1, 1, 1, Padding::valid, true},  // 1x1, pixels 4 KiB apart: chunks copied, two blocks
    {1, 1, 1, 1, 1, 1, 1, 1, Padding::valid, false},     // smallest
    // 3x3 stride 1: F(2x2, 3x3) below 16 wide, F(4x4, 3x3) from 16 (direct GEMM below 32
    // input channels on AVX2)
    {1, 1, 5, 5, 1, 3, 3, 1, Padding::same, false},      // one channel each way, odd size
    {1, 15, 5, 6, 8, 3, 3, 1, Padding::same, true},      // one under a vector width
    {1, 16, 3, 3, 16, 3, 3, 1, Padding::valid, true},    // input == kernel: 1x1 output
    {1, 3, 3, 3, 5, 3, 3, 1, Padding::valid, false},     // 1x1 output, half a tile
    {3, 3, 7, 5, 9, 3, 3, 1, Padding::same, false},      // batch 3
    {1, 17, 6, 8, 33, 3, 3, 1, Padding::valid, true},    // 'valid', even input, odd output tiles
    {3, 16, 4, 4, 32, 3, 3, 1, Padding::valid, true},    // 2x2 output: one tile per image
    {1, 15, 1, 9, 9, 3, 3, 1, Padding::same, true},      // one row: tiles run past the bottom
    {1, 31, 9, 9, 17, 3, 3, 1, Padding::same, false},    // one under AVX2's Winograd threshold
    {1, 32, 9, 10, 17, 3, 3, 1, Padding::same, true},    // at it: F(2x2, 3x3) on AVX2 too
    {3, 33, 7, 5, 7, 3, 3, 1, Padding::same, false},     // batch 3: tiles cross image boundaries
    {1, 64, 6, 6, 65, 3, 3, 1, Padding::valid, true},    // one over a panel
    {2, 300, 5, 6, 40, 3, 3, 1, Padding::same, true},    // in_c beyond one reduction chunk
    {1, 33, 8, 8, 200, 3, 3, 1, Padding::same, true},    // Inception's 8x8 blocks, many panels
    {1, 19, 17, 17, 65, 3, 3, 1, Padding::same, true},   // 17x17, one over two panels
    {1, 9, 16, 16, 33, 3, 3, 1, Padding::same, true},    // exactly 16 wide: four 4x4 tiles across
    {2, 17, 19, 18, 40, 3, 3, 1, Padding::valid, true},  // 'valid' 17x16, partial tiles at the edges
    {1, 20, 21, 23, 9, 3, 3, 1, Padding::same, false},   // odd sizes, one partial panel
    {1, 16, 20, 20, 1, 3, 3, 1, Padding::same, true},    // out_c 1, many tiles
    {1, 32, 16, 17, 20, 3, 3, 1, Padding::same, true},   // F(4x4, 3x3) on AVX2
    {1, 64, 35, 35, 96, 3, 3, 1, Padding::same, true},   // an Inception 35x35 layer, many blocks
    // 5x5 stride 1: F(2x2, 5x5)
    {1, 9, 11, 11, 15, 5, 5, 1, Padding::same, false},
    {3, 8, 11, 10, 15, 5, 5, 1, Padding::same, true},    // batch
    {1, 5, 4, 4, 3, 5, 5, 1, Padding::same, false},      // input smaller than the kernel
    {3, 33, 7, 6, 40, 5, 5, 1, Padding::valid, true},    // 'valid' 3x2, on AVX2 too
    {1, 48, 35, 35, 64, 5, 5, 1, Padding::same, true},   // an Inception 35x35 layer
    // 1-D kernels: F(4, 3) and F(4, 7), tiles along the kernel's axis
    {1, 8, 7, 6, 16, 1, 3, 1, Padding::same, true},      // 1x3
    {1, 16, 6, 7, 8, 3, 1, 1, Padding::same, false},     // 3x1
    {1, 9, 9, 7, 31, 3, 1, 1, Padding::same, true},      // 3x1, one under a panel
    {1, 33, 7, 9, 17, 1, 3, 1, Padding::same, true},     // 1x3 on AVX2 too
    {3, 33, 7, 5, 7, 3, 1, 1, Padding::same, false},     // 3x1 over a batch, on AVX2 too
    {1, 33, 8, 8, 200, 3, 1, 1, Padding::same, true},    // 8x8, many panels
    {1, 7, 9, 9, 9, 1, 7, 1, Padding::same, true},       // 1x7 factorised conv
    {1, 9, 9, 9, 7, 7, 1, 1, Padding::same, false},      // 7x1
    {1, 7, 9, 7, 17, 1, 7, 1, Padding::same, true},      // 1x7 over a 7-wide input
    {1, 17, 9, 8, 33, 1, 7, 1, Padding::valid, true},    // 'valid': two outputs across
    {1, 17, 9, 8, 33, 7, 1, 1, Padding::valid, true},    // 'valid': three outputs down, half a tile
    {1, 5, 1, 9, 9, 1, 7, 1, Padding::same, true},       // one row
    {1, 5, 9, 1, 9, 7, 1, 1, Padding::same, true},       // one column
    {2, 300, 5, 6, 40, 7, 1, 1, Padding::same, true},    // in_c beyond one reduction chunk
    {1, 40, 17, 17, 130, 7, 1, 1, Padding::same, true},  // 17x17, a partial last panel
    {1, 160, 17, 17, 192, 1, 7, 1, Padding::same, true}, // an Inception 17x17 layer
    {1, 16, 23, 19, 20, 7, 1, 1, Padding::same, false},  // several row bands of 4-row tiles
};

struct PoolCase {
    int n, c, h, w, kernel_h, kernel_w, stride;
    Padding pad;
};

inline const PoolCase kPoolCases[] = {
    {1, 3, 17, 13, 3, 3, 2, Padding::valid},  // Inception's reduction pool, odd sizes
    {1, 7, 17, 13, 3, 3, 2, Padding::same},
    {1, 8, 9, 9, 3, 3, 1, Padding::same},     // the avg pool inside mixed blocks
    {1, 9, 9, 8, 3, 3, 1, Padding::valid},
    {1, 15, 6, 7, 3, 3, 2, Padding::same},    // even size: padding only after
    {1, 16, 5, 5, 5, 5, 1, Padding::same},
    {1, 17, 8, 8, 8, 8, 1, Padding::valid},   // Inception's final 8x8 pool: 1x1 output
    {1, 9, 11, 10, 9, 9, 1, Padding::same},   // 81 taps: past the SIMD kernels' listed windows
    {1, 33, 7, 9, 1, 3, 1, Padding::same},    // 1x3
    {1, 1, 9, 7, 3, 1, 2, Padding::same},     // 3x1, one channel
    {3, 3, 5, 5, 3, 3, 2, Padding::same},     // batch 3
    {1, 291, 35, 35, 3, 3, 1, Padding::same},   // a mixed block's avg pool: many vectors, a tail
    {1, 2048, 8, 8, 3, 3, 1, Padding::same},    // the 8x8 blocks' avg pool
    {2, 64, 147, 147, 3, 3, 2, Padding::valid}, // the stem's max pool, batch 2
    {1, 1, 1, 1, 1, 1, 1, Padding::valid},    // smallest
};

inline const int kChannelCounts[] = {1, 3, 7, 8, 9, 15, 16, 17, 33};

// How the activations sit in memory. The second layout is what a concat branch sees: the
// output written into a channel slice of a wider tensor, the input read from one too and
// starting one float past an aligned address.
struct MemoryLayout {
    int in_extra;      // in_pixel_stride = channels + in_extra
    int out_extra;     // out_pixel_stride = out channels + out_offset + out_extra
    int out_offset;    // first output channel within the pixel
    bool misaligned;   // input starts one float past a 64-byte boundary
    const char* name;
};

inline const MemoryLayout kLayouts[] = {
    {0, 0, 0, false, "dense"},
    {2, 5, 3, true, "concat slice, misaligned input"},
};

inline std::string describe(const ConvCase& c) {
    return "n" + std::to_string(c.n) + " " + std::to_string(c.h) + "x" + std::to_string(c.w) +
           "x" + std::to_string(c.in_c) + " -> " + std::to_string(c.out_c) + ", kernel " +
           std::to_string(c.kernel_h) + "x" + std::to_string(c.kernel_w) + " stride " +
           std::to_string(c.stride) + (c.pad == Padding::same ? " same" : " valid") +
           (c.relu ? " relu" : "");
}

inline std::string describe(const PoolCase& c) {
    return "n" + std::to_string(c.n) + " " + std::to_string(c.h) + "x" + std::to_string(c.w) +
           "x" + std::to_string(c.c) + ", window " + std::to_string(c.kernel_h) + "x" +
           std::to_string(c.kernel_w) + " stride " + std::to_string(c.stride) +
           (c.pad == Padding::same ? " same" : " valid");
}

}  // namespace tinception::testing
