// CPU feature decoding on made-up CPUID and XGETBV words, and kernel-set selection by name.
#include <doctest/doctest.h>

#include <string>

#include "cpu_features.hpp"
#include "error.hpp"
#include "kernel_dispatch.hpp"

using namespace tinception;
using kernels::CpuidWords;
using kernels::decode_cpu_features;

namespace {

constexpr unsigned kSse42 = 1u << 20, kFma = 1u << 12, kOsxsave = 1u << 27, kAvx = 1u << 28;  // leaf 1 ecx
constexpr unsigned kAvx2 = 1u << 5, kAvx512f = 1u << 16, kAvx512dq = 1u << 17, kAvx512bw = 1u << 30,
                   kAvx512vl = 1u << 31;  // leaf 7 ebx
constexpr unsigned kAvx512vnni = 1u << 11;                                          // leaf 7 ecx
constexpr unsigned kAvx512bf16 = 1u << 5;                                           // leaf 7.1 eax
constexpr unsigned long long kYmmState = 0x7, kZmmState = 0xe7;                     // xcr0

// A CPU with everything: AVX2, FMA and AVX-512, and an OS that saves every register.
CpuidWords everything() {
    CpuidWords w;
    w.has_leaf1 = true;
    w.leaf1_ecx = kSse42 | kFma | kOsxsave | kAvx;
    w.has_leaf7 = true;
    w.leaf7_ebx = kAvx2 | kAvx512f | kAvx512dq | kAvx512bw | kAvx512vl;
    w.leaf7_ecx = kAvx512vnni;
    w.leaf7_1_eax = kAvx512bf16;
    w.xcr0 = kZmmState;
    return w;
}

}  // namespace

TEST_CASE("cpu features: decoded from made-up CPUID and XGETBV words") {
    struct Case {
        const char* what;
        void (*change)(CpuidWords&);
        const char* expected;
    };
    const Case cases[] = {
        {"everything, every register saved", [](CpuidWords&) {},
         "sse4.2 avx2 fma avx512f avx512bw avx512dq avx512vl avx512vnni avx512bf16"},
        {"no BF16", [](CpuidWords& w) { w.leaf7_1_eax = 0; },
         "sse4.2 avx2 fma avx512f avx512bw avx512dq avx512vl avx512vnni"},
        {"the OS saves only YMM state", [](CpuidWords& w) { w.xcr0 = kYmmState; }, "sse4.2 avx2 fma"},
        {"the OS saves only SSE state", [](CpuidWords& w) { w.xcr0 = 0x3; }, "sse4.2"},
        {"no OSXSAVE", [](CpuidWords& w) { w.leaf1_ecx &= ~kOsxsave; }, "sse4.2"},
        {"no AVX", [](CpuidWords& w) { w.leaf1_ecx &= ~kAvx; }, "sse4.2"},
        {"no leaf 7", [](CpuidWords& w) { w.has_leaf7 = false; }, "sse4.2 fma"},
        {"no leaf 1", [](CpuidWords& w) { w.has_leaf1 = false; }, "none"},
        {"no FMA, AVX-512F alone",
         [](CpuidWords& w) {
             w.leaf1_ecx &= ~kFma;
             w.leaf7_ebx = kAvx2 | kAvx512f;
             w.leaf7_ecx = 0;
             w.leaf7_1_eax = 0;
         },
         "sse4.2 avx2 avx512f"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.what);
        CpuidWords w = everything();
        c.change(w);
        CHECK(kernels::describe(decode_cpu_features(w)) == c.expected);
    }
}

TEST_CASE("kernel sets: reference and eigen always, a SIMD table only where built and supported") {
    const auto tables = available_kernel_tables();
    REQUIRE(tables.size() >= 2);
    CHECK(std::string(tables[0]->isa_name) == "reference");
    CHECK(std::string(tables[1]->isa_name) == "eigen");
    CHECK(std::string(kernel_table_named("reference").isa_name) == "reference");
    CHECK_THROWS_AS(kernel_table_named("sse9"), Error);
    const kernels::CpuFeatures& cpu = kernels::cpu_features();
    CHECK(bool(kernels::avx2_kernels()) == (kernels::avx2_kernels_built() && cpu.avx2 && cpu.fma));
    CHECK(bool(kernels::avx512_kernels()) ==
          (kernels::avx512_kernels_built() && cpu.avx512f && cpu.avx512bw && cpu.avx512dq && cpu.avx512vl && cpu.fma));
    // NEON is part of every AArch64 CPU and of no other: where built, it is the default table.
#if defined(__aarch64__)
    CHECK(cpu.neon);
#else
    CHECK_FALSE(cpu.neon);
#endif
    CHECK(bool(kernels::neon_kernels()) == (kernels::neon_kernels_built() && cpu.neon));
    if (kernels::neon_kernels()) CHECK(tables.back() == kernels::neon_kernels());
    MESSAGE("this CPU: " << kernels::describe(cpu));
}
