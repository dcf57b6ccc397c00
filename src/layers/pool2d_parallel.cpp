// Splitting a pooling into (image, row band) tasks; a band is a pooling whose input starts
// where its first output row's window does (or, above the input, with shifted padding).
#include "layers/pool2d_parallel.hpp"

#include "layers/row_band.hpp"
#include "parallel/thread_pool.hpp"

namespace tinception {
namespace {

// Bands per image: enough for two to four threads, and never a band of under one row.
constexpr int kMaxBands = 8;

kernels::Pool2dArgs band_args(const kernels::Pool2dArgs& a, int b, int y0, int rows) {
    return row_band(a, a.in_pixel_stride ? a.in_pixel_stride : a.c, a.out_pixel_stride ? a.out_pixel_stride : a.c,
                    b, y0, rows);
}

}  // namespace

void pool2d_parallel(kernels::Pool2dFn pool, const kernels::Pool2dArgs& a) {
    if (a.n <= 0 || a.out_h <= 0) return;
    const int bands = a.out_h < kMaxBands ? a.out_h : kMaxBands;
    if (bands == 1 && a.n == 1) {
        pool(a);
        return;
    }
    parallel_for(a.n * bands, [&](int task) {
        const int b = task / bands;
        const int band = task % bands;
        const int y0 = int(long(a.out_h) * band / bands);
        const int y1 = int(long(a.out_h) * (band + 1) / bands);
        if (y1 > y0) pool(band_args(a, b, y0, y1 - y0));
    });
}

}  // namespace tinception
