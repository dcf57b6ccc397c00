// Reference kernels: plain loops in the order the formulas read. They are the
// specification every optimised kernel is tested against; never tune them.
#pragma once
#include "kernel_table.hpp"

namespace tinception::kernels {

void conv2d_direct_ref(const Conv2dArgs& a);
void maxpool2d_ref(const Pool2dArgs& a);
void avgpool2d_ref(const Pool2dArgs& a);
void global_avgpool_ref(const float* input, float* output, int n, int h, int w, int c);
void softmax_ref(const float* input, float* output, int rows, int length);
void dense_ref(const DenseArgs& a);
void copy_channels_ref(const float* src, int pixels, int c, float* dst, int dst_pixel_stride,
                       int offset);
void head_dots_ref(const float* const* x, int rows, const double* w, int classes, int n, double* z);
void head_outer_ref(const float* const* x, const double* g, int rows, int classes, int n, double* out);

}  // namespace tinception::kernels
