// AVX2 max and average pooling (pool2d_nhwc_simd.hpp), 8 channels per vector.
#include "pool2d_nhwc_simd.hpp"
#include "pool2d_simd.hpp"
#include "simd_avx2.hpp"

namespace tinception::kernels {

void maxpool2d_nhwc_avx2(const Pool2dArgs& a) { pool2d_nhwc<Avx2, true>(a); }
void avgpool2d_nhwc_avx2(const Pool2dArgs& a) { pool2d_nhwc<Avx2, false>(a); }

}  // namespace tinception::kernels
