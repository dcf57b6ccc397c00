// The measuring behind `tinception bench`: medians, the peak formula's lanes per CPU, and
// per-layer times that account for every step of a small network.
#include <doctest/doctest.h>

#include "profile/machine_peak.hpp"
#include "profile/network_timing.hpp"

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
