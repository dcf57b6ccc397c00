// The SIMD pooling kernels; the same contract as maxpool2d_ref / avgpool2d_ref (reference.hpp).
#pragma once
#include "kernel_table.hpp"

namespace tinception::kernels {

void maxpool2d_nhwc_avx2(const Pool2dArgs& a);
void avgpool2d_nhwc_avx2(const Pool2dArgs& a);
void maxpool2d_nhwc_avx512(const Pool2dArgs& a);
void avgpool2d_nhwc_avx512(const Pool2dArgs& a);
void maxpool2d_nhwc_neon(const Pool2dArgs& a);
void avgpool2d_nhwc_neon(const Pool2dArgs& a);

}  // namespace tinception::kernels
