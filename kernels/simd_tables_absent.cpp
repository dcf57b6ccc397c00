// Stand-in for builds without the hand-written SIMD kernels (-Dsimd=none, or not x86):
// the dispatcher then chooses among the portable tables only.
#include "kernel_table.hpp"

namespace tinception::kernels {

const KernelTable* avx2_kernels() { return nullptr; }
const KernelTable* avx512_kernels() { return nullptr; }

}  // namespace tinception::kernels
