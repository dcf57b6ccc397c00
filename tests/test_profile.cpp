// The measuring behind `tinception bench`: medians, the peak formula's lanes per CPU, and
// per-layer times that account for every step of a small network.
#include <doctest/doctest.h>

#include <cmath>

#if defined(__linux__)
#include <sched.h>
#endif

#include <numeric>

#include "int8/int8_kernel_table.hpp"
#include "kernel_dispatch.hpp"
#include "model/network.hpp"
#include "profile/machine_peak.hpp"
#include "profile/network_timing.hpp"
#include "small_packed_weights.hpp"
#include "weights/weight_file.hpp"

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

TEST_CASE("measured int8 peak: the VNNI table's dot-product loop runs; a table without one reports 0") {
    CHECK(measured_int8_peak_macs(kernels::reference_int8_kernels(), 1, 0.002) == 0.0);
    if (const kernels::Int8KernelTable* vnni = kernels::avx512_vnni_int8_kernels()) {
        REQUIRE(bool(vnni->dot_peak));
        const double macs = measured_int8_peak_macs(*vnni, 1, 0.004);
        CHECK(macs > 0.0);
        CHECK(std::isfinite(macs));
    }
}

TEST_CASE("per-step multiply-adds: a convolution's output size x input channels x kernel cells, 0 for the input") {
    const tinception::testing::SmallPackedFiles f;
    const WeightFile weights = WeightFile::open(f.weights_path, DataCheck::deferred);
    Network net(weights, "features", active_kernels());
    const std::vector<std::int64_t> macs = step_multiply_adds(net.plan());
    REQUIRE(macs.size() == 5);  // input, stem, wide, row, features: 10x10 each
    CHECK(macs[0] == 0);
    CHECK(macs[1] == 10 * 10 * 40 * 3 * 3 * 3);
    CHECK(macs[2] == 10 * 10 * 40 * 40 * 3 * 3);
    CHECK(macs[3] == 10 * 10 * 40 * 40 * 1 * 7);
    CHECK(macs[4] == 10 * 10 * 16 * 40);
    CHECK(net.multiply_adds_per_image() == std::accumulate(macs.begin(), macs.end(), std::int64_t(0)));
    const std::vector<float> input = tinception::testing::small_packed_input();
    const LayerTimes times = time_layers(net, input, 2, {1}, 1);
    CHECK(times.multiply_adds == macs);
    CHECK(times.steps.size() == macs.size());
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
