// AVX-512 max and average pooling (pool2d_nhwc_simd.hpp), 16 channels per vector.
#include "pool2d_nhwc_simd.hpp"
#include "pool2d_simd.hpp"
#include "simd_avx512.hpp"

namespace tinception::kernels {

void maxpool2d_nhwc_avx512(const Pool2dArgs& a) { pool2d_nhwc<Avx512, true>(a); }
void avgpool2d_nhwc_avx512(const Pool2dArgs& a) { pool2d_nhwc<Avx512, false>(a); }

}  // namespace tinception::kernels
