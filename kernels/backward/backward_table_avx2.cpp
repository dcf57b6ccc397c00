// The AVX2+FMA backward table: convolution backward as packed GEMMs on the forward 6x16
// micro-kernel (conv2d_backward_gemm.hpp); the other ops are the reference's.
#include "backward/conv2d_backward_gemm.hpp"
#include "gemm_tile_6x16_avx2.hpp"

namespace tinception::kernels {

// Called only by backward_tables.cpp after the CPU check.
const BackwardKernelTable& avx2_backward_table_unchecked() {
    static const BackwardKernelTable table = gemm_backward_table<GemmTile6x16Avx2>("avx2");
    return table;
}

}  // namespace tinception::kernels
