// Runs one convolution across the thread pool by cutting it into independent calls of the
// same kernel. Shape checking and padding choice stay in the layer code; this only splits.
#pragma once
#include "kernel_table.hpp"

namespace tinception {

// How one image's output is cut: `bands` row bands times `groups` output-channel groups.
struct Conv2dCut {
    int bands = 1;
    int groups = 1;
};

// Same result as table.conv2d(args), computed as tasks of (batch image, channel group, band
// of output rows). The cut depends only on one image's shape and the table's packing, never
// on the thread count or the batch size, so the output is bit-identical for any number of
// threads. Each output's sum runs in the same order whatever the cut (the GEMM kernels chunk
// the reduction by K alone), so the SIMD tables also match an uncut call bit for bit.
void conv2d_parallel(const kernels::KernelTable& table, const kernels::Conv2dArgs& args);

// The cut conv2d_parallel uses for this shape and table (exposed for tests).
Conv2dCut conv2d_cut(const kernels::KernelTable& table, const kernels::Conv2dArgs& args);

// The number of row bands each image is cut into for this shape (exposed for tests).
int conv2d_bands_per_image(const kernels::Conv2dArgs& args);

}  // namespace tinception
