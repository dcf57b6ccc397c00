// The AVX-512 backward table: convolution backward as packed GEMMs on the forward 14x32
// micro-kernel (conv2d_backward_gemm.hpp), pooling backward by channel vectors
// (pool2d_backward_simd.hpp); the other ops are the reference's.
#include <immintrin.h>

#include "backward/conv2d_backward_gemm.hpp"
#include "backward/pool2d_backward_simd.hpp"
#include "gemm_tile_14x32_avx512.hpp"
#include "simd_avx512.hpp"

namespace tinception::kernels {
namespace {

// AVX-512 lane picks for max pooling backward: a set of lanes is a mask register.
struct Avx512Picks {
    using Lanes = __mmask16;
    static Lanes live(Avx512::Mask m) { return m; }
    static Lanes equal(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
    static Lanes both(Lanes a, Lanes b) { return Lanes(a & b); }
    static Lanes but(Lanes a, Lanes b) { return Lanes(a & ~b); }
    static __m512 keep(Lanes l, __m512 v) { return _mm512_maskz_mov_ps(l, v); }
};

}  // namespace

// Called only by backward_tables.cpp after the CPU check.
const BackwardKernelTable& avx512_backward_table_unchecked() {
    static const BackwardKernelTable table = [] {
        BackwardKernelTable t = gemm_backward_table<GemmTile14x32Avx512>("avx512");
        t.maxpool2d_backward = pool2d_backward_nhwc<Avx512, Avx512Picks, true>;
        t.avgpool2d_backward = pool2d_backward_nhwc<Avx512, Avx512Picks, false>;
        return t;
    }();
    return table;
}

}  // namespace tinception::kernels
