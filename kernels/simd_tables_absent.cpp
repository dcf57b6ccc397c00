// Stand-ins for the hand-written SIMD tables this build leaves out (-Dsimd=none or a single
// ISA, or not x86): the dispatcher then sees nullptr and chooses among the other tables.
#include "kernel_table.hpp"

namespace tinception::kernels {

#ifndef TINCEPTION_BUILT_AVX2
const KernelTable* avx2_kernels() { return nullptr; }
#endif
#ifndef TINCEPTION_BUILT_AVX512
const KernelTable* avx512_kernels() { return nullptr; }
#endif

}  // namespace tinception::kernels
