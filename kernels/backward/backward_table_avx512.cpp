// The AVX-512 backward table: convolution backward as packed GEMMs on the forward 14x32
// micro-kernel (conv2d_backward_gemm.hpp); the other ops are the reference's.
#include "backward/conv2d_backward_gemm.hpp"
#include "gemm_tile_14x32_avx512.hpp"

namespace tinception::kernels {

// Called only by backward_tables.cpp after the CPU check.
const BackwardKernelTable& avx512_backward_table_unchecked() {
    static const BackwardKernelTable table = gemm_backward_table<GemmTile14x32Avx512>("avx512");
    return table;
}

}  // namespace tinception::kernels
