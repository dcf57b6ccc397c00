// The ISA files' table builders, for simd_tables.cpp alone: each runs code of its ISA, so
// only a caller that has checked the CPU may call it. Everyone else calls avx2_kernels().
#pragma once
#include "kernel_table.hpp"

namespace tinception::kernels {

const KernelTable& avx2_table_unchecked();
const KernelTable& avx512_table_unchecked();
const KernelTable& neon_table_unchecked();

}  // namespace tinception::kernels
