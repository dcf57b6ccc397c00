// AArch64 NEON max and average pooling (pool2d_nhwc_simd.hpp), 4 channels per vector.
#include "pool2d_nhwc_simd.hpp"
#include "pool2d_simd.hpp"
#include "simd_neon.hpp"

namespace tinception::kernels {

void maxpool2d_nhwc_neon(const Pool2dArgs& a) { pool2d_nhwc<Neon, true>(a); }
void avgpool2d_nhwc_neon(const Pool2dArgs& a) { pool2d_nhwc<Neon, false>(a); }

}  // namespace tinception::kernels
