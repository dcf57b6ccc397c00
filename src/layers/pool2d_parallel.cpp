// Splitting a pooling into (image, row band) tasks; a band is a pooling whose input starts
// where its first output row's window does (or, above the input, with shifted padding).
#include "layers/pool2d_parallel.hpp"

#include "layers/row_band.hpp"
#include "parallel/thread_pool.hpp"

namespace tinception {
namespace {

// Bands per image: enough for two to four threads, and never a band of under one row.
constexpr int kMaxPoolBands = 8;

kernels::Pool2dArgs band_args(const kernels::Pool2dArgs& a, int b, int y0, int rows) {
    return row_band(a, a.in_pixel_stride ? a.in_pixel_stride : a.c, a.out_pixel_stride ? a.out_pixel_stride : a.c,
                    b, y0, rows);
}

}  // namespace

Pool2dTasks::Pool2dTasks(kernels::Pool2dFn pool, const kernels::Pool2dArgs& args) : pool_(pool), args_(args) {
    if (args.n <= 0 || args.out_h <= 0) return;
    bands_ = args.out_h < kMaxPoolBands ? args.out_h : kMaxPoolBands;
    count_ = args.n * bands_;
}

void Pool2dTasks::run(int task) const {
    const int b = task / bands_;
    const int band = task % bands_;
    const int y0 = int(long(args_.out_h) * band / bands_);
    const int y1 = int(long(args_.out_h) * (band + 1) / bands_);
    if (y1 > y0) pool_(band_args(args_, b, y0, y1 - y0));
}

void pool2d_parallel(kernels::Pool2dFn pool, const kernels::Pool2dArgs& a) {
    const Pool2dTasks tasks(pool, a);
    if (tasks.count() <= 1) {
        if (tasks.count() == 1) pool(a);
        return;
    }
    parallel_for(tasks.count(), [&](int task) { tasks.run(task); });
}

}  // namespace tinception
