// The per-ISA register-only FMA loops behind KernelTable::fma_peak (see kernel_table.hpp).
#pragma once

namespace tinception::kernels {

double fma_peak_avx2(double seconds);
double fma_peak_avx512(double seconds);
double fma_peak_neon(double seconds);

}  // namespace tinception::kernels
