// Hands out the hand-written SIMD tables this build holds, each only when the CPU runs it.
// Compiled without ISA flags: this is the one place that checks before any ISA code runs.
#include "cpu_features.hpp"
#include "kernel_table.hpp"
#include "simd_tables.hpp"

namespace tinception::kernels {

#ifdef TINCEPTION_BUILT_AVX2
const KernelTable* avx2_kernels() {
    const CpuFeatures& cpu = cpu_features();
    return cpu.avx2 && cpu.fma ? &avx2_table_unchecked() : nullptr;
}
bool avx2_kernels_built() { return true; }
#else
const KernelTable* avx2_kernels() { return nullptr; }
bool avx2_kernels_built() { return false; }
#endif

#ifdef TINCEPTION_BUILT_AVX512
const KernelTable* avx512_kernels() {
    const CpuFeatures& cpu = cpu_features();
    const bool runs = cpu.avx512f && cpu.avx512bw && cpu.avx512dq && cpu.avx512vl && cpu.fma;
    return runs ? &avx512_table_unchecked() : nullptr;
}
bool avx512_kernels_built() { return true; }
#else
const KernelTable* avx512_kernels() { return nullptr; }
bool avx512_kernels_built() { return false; }
#endif

#ifdef TINCEPTION_BUILT_NEON
const KernelTable* neon_kernels() { return cpu_features().neon ? &neon_table_unchecked() : nullptr; }
bool neon_kernels_built() { return true; }
#else
const KernelTable* neon_kernels() { return nullptr; }
bool neon_kernels_built() { return false; }
#endif

}  // namespace tinception::kernels
