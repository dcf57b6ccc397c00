// Splitting a convolution into (image, row band) tasks. A band is itself a convolution: its
// output starts y0 rows down, and its input window starts where the band's first row reads.
#include "layers/conv2d_parallel.hpp"

#include "parallel/thread_pool.hpp"

namespace tinception {

namespace {

// Below this many output pixels per band the GEMM tiles run mostly empty and a split costs
// more than it gains.
constexpr long kMinBandPixels = 128;
// Enough bands to balance two to a few threads; a multiple of 2, 3 and 4.
constexpr int kMaxBands = 12;

// The convolution restricted to image `b` and output rows [y0, y0 + rows).
kernels::Conv2dArgs band_args(const kernels::Conv2dArgs& a, int b, int y0, int rows) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    kernels::Conv2dArgs band = a;
    band.n = 1;
    band.out_h = rows;
    band.in_pixel_stride = int(in_stride);
    band.out_pixel_stride = int(out_stride);
    band.output = a.output + ((long(b) * a.out_h + y0) * a.out_w) * out_stride;
    const float* image = a.input + long(b) * a.in_h * a.in_w * in_stride;
    // First input row the band's taps reach. When it lies inside the input, start the input
    // there and drop the top padding (so a 1x1 band stays a plain 1x1 conv); above it, keep
    // the input and shift the padding instead, which may then be negative.
    const int first_row = y0 * a.stride_h - a.pad_top;
    if (first_row >= 0) {
        band.input = image + long(first_row) * a.in_w * in_stride;
        band.in_h = a.in_h - first_row;
        band.pad_top = 0;
    } else {
        band.input = image;
        band.pad_top = a.pad_top - y0 * a.stride_h;
    }
    return band;
}

}  // namespace

int conv2d_bands_per_image(const kernels::Conv2dArgs& a) {
    const long pixels = long(a.out_h) * a.out_w;
    long bands = pixels / kMinBandPixels;
    if (bands > kMaxBands) bands = kMaxBands;
    if (bands > a.out_h) bands = a.out_h;
    return bands < 1 ? 1 : int(bands);
}

void conv2d_parallel(const kernels::KernelTable& table, const kernels::Conv2dArgs& a) {
    const int bands = conv2d_bands_per_image(a);
    if (a.n <= 0 || a.out_h <= 0) return;
    if (bands == 1 && a.n == 1) {
        table.conv2d(a);
        return;
    }
    parallel_for(a.n * bands, [&](int task) {
        const int b = task / bands;
        const int band = task % bands;
        const int y0 = int(long(a.out_h) * band / bands);
        const int y1 = int(long(a.out_h) * (band + 1) / bands);
        if (y1 > y0) table.conv2d(band_args(a, b, y0, y1 - y0));
    });
}

}  // namespace tinception
