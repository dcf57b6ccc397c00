// Which kernel tables this build and this CPU can run, and the one chosen at start-up.
#pragma once
#include <string>
#include <vector>

#include "backward/backward_kernels.hpp"
#include "int8/int8_kernel_table.hpp"
#include "kernel_table.hpp"

namespace tinception {

// Every table runnable here, slowest first: reference, eigen, then avx2 and avx512
// where both built and supported by the CPU, or neon where built (AArch64).
std::vector<const kernels::KernelTable*> available_kernel_tables();

// The table named `name` ("reference", "eigen", "avx2", "avx512", "neon"); throws Error when it
// is unknown or this CPU or build lacks it.
const kernels::KernelTable& kernel_table_named(const std::string& name);

// The fastest available table, or the one TINCEPTION_ISA names. Chosen once.
const kernels::KernelTable& active_kernels();

// The backward and int8 tables that go with active_kernels(): the same ISA's where there is
// one, the reference when the reference is forced, else the fastest available.
const kernels::BackwardKernelTable& active_backward_kernels();
const kernels::Int8KernelTable& active_int8_kernels();

// The Eigen-backed table (im2col + Eigen matrix product), defined in layers/.
const kernels::KernelTable& eigen_kernels();

}  // namespace tinception
