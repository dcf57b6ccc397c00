// CPUID + XGETBV, nothing else. A feature counts only when the OS also saves its
// registers on a context switch: AVX needs YMM state, AVX-512 needs opmask and ZMM state.
#include "cpu_features.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace tinception::kernels {
namespace {

#if defined(__x86_64__) || defined(__i386__)
unsigned long long read_xcr0() {
    unsigned eax = 0, edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<unsigned long long>(edx) << 32) | eax;
}

CpuFeatures detect() {
    CpuFeatures f;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
    f.sse42 = ecx & (1u << 20);
    const bool osxsave = ecx & (1u << 27);
    const bool avx = ecx & (1u << 28);
    const bool fma = ecx & (1u << 12);
    if (!osxsave || !avx) return f;
    const unsigned long long xcr0 = read_xcr0();
    const bool ymm_saved = (xcr0 & 0x6) == 0x6;            // SSE + AVX state
    const bool zmm_saved = ymm_saved && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM0-15 high, ZMM16-31
    if (!ymm_saved) return f;
    f.fma = fma;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
    f.avx2 = ebx & (1u << 5);
    if (zmm_saved) {
        f.avx512f = ebx & (1u << 16);
        f.avx512dq = ebx & (1u << 17);
        f.avx512bw = ebx & (1u << 30);
        f.avx512vl = ebx & (1u << 31);
        f.avx512vnni = ecx & (1u << 11);
    }
    return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

}  // namespace

const CpuFeatures& cpu_features() {
    static const CpuFeatures features = detect();
    return features;
}

std::string describe(const CpuFeatures& f) {
    std::string out;
    const auto add = [&out](bool present, const char* name) {
        if (!present) return;
        if (!out.empty()) out += ' ';
        out += name;
    };
    add(f.sse42, "sse4.2");
    add(f.avx2, "avx2");
    add(f.fma, "fma");
    add(f.avx512f, "avx512f");
    add(f.avx512bw, "avx512bw");
    add(f.avx512dq, "avx512dq");
    add(f.avx512vl, "avx512vl");
    add(f.avx512vnni, "avx512vnni");
    return out.empty() ? "none" : out;
}

}  // namespace tinception::kernels
