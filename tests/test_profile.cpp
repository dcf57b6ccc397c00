// The measuring behind `tinception bench`: medians, the peak formula's lanes per CPU, and
// per-layer times that account for every step of a small network.
#include <doctest/doctest.h>

#if defined(__linux__)
#include <sched.h>
#endif

#include "profile/machine_peak.hpp"
#include "profile/network_timing.hpp"
#include "kernel_dispatch.hpp"

using namespace tinception;

TEST_CASE("median of odd, even and empty samples; the input order does not matter") {
    CHECK(median({3.0, 1.0, 2.0}) == 2.0);
    CHECK(median({4.0, 1.0, 3.0, 2.0}) == 2.5);
    CHECK(median({}) == 0.0);
}

TEST_CASE("peak formula: AMD before Zen 5 runs AVX-512 on 256-bit halves") {
    CpuInfo zen4;
    zen4.vendor = "AuthenticAMD";
    zen4.family = 25;
    zen4.mhz = 2000.0;
    CpuInfo zen5 = zen4;
    zen5.family = 26;
    CpuInfo intel = zen4;
    intel.vendor = "GenuineIntel";
    intel.family = 6;
    CHECK(lanes_per_fma_pipe("avx512", zen4) == 8);
    CHECK(lanes_per_fma_pipe("avx512", zen5) == 16);
    CHECK(lanes_per_fma_pipe("avx512", intel) == 16);
    CHECK(lanes_per_fma_pipe("avx2", zen5) == 8);
    CHECK(lanes_per_fma_pipe("neon", CpuInfo{}) == 4);
    // 2 pipes x 8 lanes x 2 flops x 2 GHz
    CHECK(formula_peak_flops(2, "avx2", zen4) == doctest::Approx(64e9));
}

TEST_CASE("read_cpuinfo counts this machine's processors") {
    const CpuInfo cpu = read_cpuinfo();
    CHECK(cpu.logical_cpus >= 1);
}

#if defined(__linux__)
TEST_CASE("per-CPU FMA rates: one row per CPU the process may use, ordered figures, its CPU set restored") {
    const kernels::KernelTable& table = active_kernels();
    cpu_set_t before;
    CPU_ZERO(&before);
    REQUIRE(sched_getaffinity(0, sizeof before, &before) == 0);
    const std::vector<CpuRate> rates = per_cpu_fma_rates(table, 3, 0.002);
    cpu_set_t after;
    CPU_ZERO(&after);
    REQUIRE(sched_getaffinity(0, sizeof after, &after) == 0);
    CHECK(CPU_EQUAL(&before, &after));
    if (!table.fma_peak) {
        CHECK(rates.empty());
        return;
    }
    REQUIRE(rates.size() == std::size_t(CPU_COUNT(&before)));
    for (const CpuRate& r : rates) {
        CHECK(CPU_ISSET(r.cpu, &before));
        CHECK(r.lowest_flops > 0.0);
        CHECK(r.lowest_flops <= r.median_flops);
        CHECK(r.median_flops <= r.highest_flops);
    }
    CHECK(per_cpu_fma_rates(table, 0, 0.002).empty());
}
#endif
