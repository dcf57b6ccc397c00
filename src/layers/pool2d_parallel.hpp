// Runs one max or average pooling across the thread pool as independent calls of the same
// kernel on (image, band of output rows). Each output is computed alone, so any cut gives
// the same bits; the cut still depends on the shape only, like conv2d_parallel's.
#pragma once
#include "kernel_table.hpp"

namespace tinception {

void pool2d_parallel(kernels::Pool2dFn pool, const kernels::Pool2dArgs& args);

}  // namespace tinception
