// What the CPU (and the OS, for register state) supports; read once with CPUID + XGETBV.
#pragma once
#include <string>

namespace tinception::kernels {

struct CpuFeatures {
    bool sse42 = false;
    bool avx2 = false;
    bool fma = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512dq = false;
    bool avx512vl = false;
    bool avx512vnni = false;
};

const CpuFeatures& cpu_features();
// "sse4.2 avx2 fma avx512f ..." in a fixed order, or "none"
std::string describe(const CpuFeatures& features);

}  // namespace tinception::kernels
