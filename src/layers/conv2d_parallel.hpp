// Runs one convolution across the thread pool by cutting it into independent calls of the
// same kernel. Shape checking and padding choice stay in the layer code; this only splits.
#pragma once
#include "kernel_table.hpp"

namespace tinception {

// Same result as table.conv2d(args), computed as tasks of (batch image, band of output rows).
// The cut depends only on the shape, never on the thread count, so the output is
// bit-identical for any number of threads.
void conv2d_parallel(const kernels::KernelTable& table, const kernels::Conv2dArgs& args);

// The number of row bands each image is cut into for this shape (exposed for tests).
int conv2d_bands_per_image(const kernels::Conv2dArgs& args);

}  // namespace tinception
