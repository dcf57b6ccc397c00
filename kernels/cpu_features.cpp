// CPUID + XGETBV on x86, nothing else; on AArch64 Advanced SIMD is architectural. A feature
// counts only when the OS also saves its registers: AVX needs YMM state, AVX-512 ZMM state too.
#include "cpu_features.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace tinception::kernels {
namespace {

constexpr unsigned bit(int i) { return 1u << i; }

#if defined(__x86_64__) || defined(__i386__)
unsigned long long read_xcr0() {
    unsigned eax = 0, edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<unsigned long long>(edx) << 32) | eax;
}

CpuidWords read_cpuid_words() {
    CpuidWords w;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    w.has_leaf1 = __get_cpuid(1, &eax, &ebx, &ecx, &edx);
    if (!w.has_leaf1) return w;
    w.leaf1_ecx = ecx;
    if (ecx & bit(27)) w.xcr0 = read_xcr0();  // XGETBV faults unless OSXSAVE
    w.has_leaf7 = __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx);
    if (w.has_leaf7) w.leaf7_ebx = ebx, w.leaf7_ecx = ecx;
    if (w.has_leaf7 && eax >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) w.leaf7_1_eax = eax;
    return w;
}
#else
CpuidWords read_cpuid_words() { return {}; }
#endif

}  // namespace

CpuFeatures decode_cpu_features(const CpuidWords& w) {
    CpuFeatures f;
    if (!w.has_leaf1) return f;
    f.sse42 = w.leaf1_ecx & bit(20);
    const bool osxsave = w.leaf1_ecx & bit(27);
    const bool avx = w.leaf1_ecx & bit(28);
    if (!osxsave || !avx) return f;
    const bool ymm_saved = (w.xcr0 & 0x6) == 0x6;                 // SSE + AVX state
    const bool zmm_saved = ymm_saved && (w.xcr0 & 0xe0) == 0xe0;  // opmask, ZMM0-15 high, ZMM16-31
    if (!ymm_saved) return f;
    f.fma = w.leaf1_ecx & bit(12);
    if (!w.has_leaf7) return f;
    f.avx2 = w.leaf7_ebx & bit(5);
    if (zmm_saved) {
        f.avx512f = w.leaf7_ebx & bit(16);
        f.avx512dq = w.leaf7_ebx & bit(17);
        f.avx512bw = w.leaf7_ebx & bit(30);
        f.avx512vl = w.leaf7_ebx & bit(31);
        f.avx512vnni = w.leaf7_ecx & bit(11);
        f.avx512bf16 = w.leaf7_1_eax & bit(5);
    }
    return f;
}

const CpuFeatures& cpu_features() {
    static const CpuFeatures features = [] {
        CpuFeatures f = decode_cpu_features(read_cpuid_words());
#if defined(__aarch64__)
        f.neon = true;
#endif
        return f;
    }();
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
    add(f.avx512bf16, "avx512bf16");
    add(f.neon, "neon");
    return out.empty() ? "none" : out;
}

}  // namespace tinception::kernels
