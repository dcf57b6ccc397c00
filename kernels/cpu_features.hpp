// What the CPU (and the OS, for register state) supports; read once with CPUID + XGETBV on x86
// and decoded by a function of the raw words alone; on AArch64, NEON is always there.
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
    bool avx512bf16 = false;  // vdpbf16ps: pairs of bf16 products summed into fp32
    bool neon = false;  // AArch64 Advanced SIMD: part of the architecture, so set on every AArch64 CPU
};

// The words of CPUID leaves 1 and 7 and of XGETBV the decision reads, so that it can be
// tested with made-up CPUs. xcr0 is read only when leaf 1 says the OS enabled XSAVE (OSXSAVE).
struct CpuidWords {
    bool has_leaf1 = false;
    unsigned leaf1_ecx = 0;
    bool has_leaf7 = false;
    unsigned leaf7_ebx = 0, leaf7_ecx = 0;
    unsigned leaf7_1_eax = 0;  // leaf 7 subleaf 1, when leaf 7 subleaf 0's eax says it exists
    unsigned long long xcr0 = 0;
};

// What those words say is usable: a feature counts only when the OS also saves its registers.
CpuFeatures decode_cpu_features(const CpuidWords& words);

// This CPU's, read once.
const CpuFeatures& cpu_features();
// "sse4.2 avx2 fma avx512f ... neon" in a fixed order, or "none"
std::string describe(const CpuFeatures& features);

}  // namespace tinception::kernels
