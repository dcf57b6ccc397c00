// The SIMD u8 pooling kernels' walk over the output: for each output pixel, the window's cells
// clipped to the input, listed once, then the kernel's own work on them. Plain C++ with
// internal linkage, compiled into each ISA's file.
#pragma once
#include "int8/int8_kernel_table.hpp"

namespace tinception::kernels {
namespace {

// Sums of up to this many u8 cells fit in u16 (257 * 255 < 65536); larger windows go to the
// reference.
constexpr int kMaxU8PoolCells = 257;

// per_pixel(cells, count, out) for every output pixel: cells[0, count) point at the first
// channel of each input pixel in the window, out at the output pixel's first channel. Needs a
// window of at most kMaxU8PoolCells cells.
template <class PerPixel>
void for_each_pool_window(const Pool2dU8Args& a, PerPixel per_pixel) {
    const int in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.c;
    const int out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.c;
    const std::uint8_t* cells[kMaxU8PoolCells];
    for (int b = 0; b < a.n; ++b)
        for (int oy = 0; oy < a.out_h; ++oy)
            for (int ox = 0; ox < a.out_w; ++ox) {
                const int y = oy * a.stride_h - a.pad_top, x = ox * a.stride_w - a.pad_left;
                int count = 0;
                for (int yy = y < 0 ? 0 : y; yy < y + a.kernel_h && yy < a.in_h; ++yy)
                    for (int xx = x < 0 ? 0 : x; xx < x + a.kernel_w && xx < a.in_w; ++xx)
                        cells[count++] = a.input + ((long(b) * a.in_h + yy) * a.in_w + xx) * in_stride;
                per_pixel(cells, count, a.output + ((long(b) * a.out_h + oy) * a.out_w + ox) * out_stride);
            }
}

}  // namespace
}  // namespace tinception::kernels
