// The AVX2+FMA backward table: convolution backward as packed GEMMs on the forward 6x16
// micro-kernel (conv2d_backward_gemm.hpp), pooling backward by channel vectors
// (pool2d_backward_simd.hpp); the other ops are the reference's.
#include <immintrin.h>

#include "backward/conv2d_backward_gemm.hpp"
#include "backward/pool2d_backward_simd.hpp"
#include "gemm_tile_6x16_avx2.hpp"
#include "simd_avx2.hpp"

namespace tinception::kernels {
namespace {

// AVX2 lane picks for max pooling backward: a set of lanes is a vector of all-ones lanes.
struct Avx2Picks {
    using Lanes = __m256;
    static Lanes live(Avx2::Mask m) { return _mm256_castsi256_ps(m); }
    static Lanes equal(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
    static Lanes both(Lanes a, Lanes b) { return _mm256_and_ps(a, b); }
    static Lanes but(Lanes a, Lanes b) { return _mm256_andnot_ps(b, a); }
    static __m256 keep(Lanes l, __m256 v) { return _mm256_and_ps(l, v); }
};

}  // namespace

// Called only by backward_tables.cpp after the CPU check.
const BackwardKernelTable& avx2_backward_table_unchecked() {
    static const BackwardKernelTable table = [] {
        BackwardKernelTable t = gemm_backward_table<GemmTile6x16Avx2>("avx2");
        t.maxpool2d_backward = pool2d_backward_nhwc<Avx2, Avx2Picks, true>;
        t.avgpool2d_backward = pool2d_backward_nhwc<Avx2, Avx2Picks, false>;
        return t;
    }();
    return table;
}

}  // namespace tinception::kernels
