#include "profile/machine_peak.hpp"

#if defined(__linux__)
#include <sched.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "parallel/thread_pool.hpp"

namespace tinception {

CpuInfo read_cpuinfo() {
    CpuInfo info;
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    const auto value_of = [](const std::string& l) {
        const auto colon = l.find(':');
        if (colon == std::string::npos) return std::string();
        const auto start = l.find_first_not_of(' ', colon + 1);
        return start == std::string::npos ? std::string() : l.substr(start);
    };
    while (std::getline(in, line)) {
        if (line.rfind("processor", 0) == 0) ++info.logical_cpus;
        else if (line.rfind("model name", 0) == 0 && info.model == "unknown") info.model = value_of(line);
        else if (line.rfind("vendor_id", 0) == 0 && info.vendor.empty()) info.vendor = value_of(line);
        else if (line.rfind("cpu family", 0) == 0 && !info.family) info.family = std::atoi(value_of(line).c_str());
        else if (line.rfind("cpu MHz", 0) == 0 && info.mhz == 0.0) info.mhz = std::atof(value_of(line).c_str());
    }
    return info;
}

// AMD before Zen 5 (family 26) runs 512-bit instructions as two 256-bit halves, so its pipes
// stay 8 lanes wide.
int lanes_per_fma_pipe(const std::string& isa, const CpuInfo& cpu) {
    if (isa == "avx512") return cpu.vendor == "AuthenticAMD" && cpu.family < 26 ? 8 : 16;
    if (isa == "avx2") return 8;
    if (isa == "neon") return 4;  // 128-bit pipes
    return 1;
}

double formula_peak_flops(int fma_pipes, const std::string& isa, const CpuInfo& cpu) {
    return double(fma_pipes) * lanes_per_fma_pipe(isa, cpu) * 2.0 * cpu.mhz * 1e6;
}

namespace {

// Each thread runs the loop in four slices and keeps its best: on a shared machine a slice
// the scheduler interrupts reads low, and the peak is what the core can do, not what it got.
double measured_peak(double (*loop)(double seconds), int threads, double seconds) {
    if (!loop) return 0.0;
    set_thread_count(threads);
    std::vector<double> per_thread(std::size_t(threads), 0.0);
    run_on_every_thread([&](int t) {
        for (int slice = 0; slice < 4; ++slice)
            per_thread[std::size_t(t)] = std::max(per_thread[std::size_t(t)], loop(seconds / 4));
    });
    double total = 0.0;
    for (const double f : per_thread) total += f;
    return total;
}

}  // namespace

double measured_peak_flops(const kernels::KernelTable& table, int threads, double seconds) {
    return measured_peak(table.fma_peak, threads, seconds);
}

double measured_int8_peak_macs(const kernels::Int8KernelTable& table, int threads, double seconds) {
    return measured_peak(table.dot_peak, threads, seconds);
}

std::vector<CpuRate> per_cpu_fma_rates(const kernels::KernelTable& table, int slices, double slice_seconds) {
    std::vector<CpuRate> rates;
#if defined(__linux__)
    if (!table.fma_peak || slices < 1) return rates;
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return rates;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (!CPU_ISSET(cpu, &allowed)) continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) continue;
        std::vector<double> flops;
        for (int s = 0; s < slices; ++s) flops.push_back(table.fma_peak(slice_seconds));
        std::sort(flops.begin(), flops.end());
        rates.push_back({cpu, flops[flops.size() / 2], flops.front(), flops.back()});
    }
    sched_setaffinity(0, sizeof allowed, &allowed);
#else
    (void)table;
    (void)slices;
    (void)slice_seconds;
#endif
    return rates;
}

}  // namespace tinception
