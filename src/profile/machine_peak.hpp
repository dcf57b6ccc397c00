// What the machine could do: its CPU as /proc/cpuinfo names it, the fp32 peak a formula
// gives for it, and the peaks register-only loops of the FMA and of int8's dot-product
// instruction measure. `tinception bench` reports the networks' rates against them.
#pragma once
#include <string>
#include <vector>

#include "int8/int8_kernel_table.hpp"
#include "kernel_table.hpp"

namespace tinception {

struct CpuInfo {
    std::string model = "unknown", vendor;
    int family = 0;
    int logical_cpus = 0;
    double mhz = 0.0;  // first 'cpu MHz' line: the nominal clock as the kernel reports it
};

// Linux's /proc/cpuinfo; fields it lacks keep their defaults.
CpuInfo read_cpuinfo();

// fp32 lanes one FMA pipe retires per cycle for this table's ISA.
int lanes_per_fma_pipe(const std::string& isa, const CpuInfo& cpu);

// Peak fp32 flops per second of one core by the formula pipes x lanes x 2 x clock.
double formula_peak_flops(int fma_pipes, const std::string& isa, const CpuInfo& cpu);

// One CPU's rate at the table's register-only FMA loop when it runs alone: the median, lowest
// and highest of short slices on the calling thread pinned to that CPU. On a virtual machine
// whose cores are shared with other guests one CPU can run well below another for minutes,
// and two threads then cannot reach twice one thread however evenly the work is split.
struct CpuRate {
    int cpu = 0;
    double median_flops = 0.0, lowest_flops = 0.0, highest_flops = 0.0;
};

// Every CPU this process may run on, one after another, `slices` slices of `slice_seconds`
// each. Empty where the table has no FMA loop, off Linux, or when the thread cannot be pinned;
// the calling thread's CPU set is restored afterwards.
std::vector<CpuRate> per_cpu_fma_rates(const kernels::KernelTable& table, int slices, double slice_seconds);

// Sum over `threads` threads, all running the table's register-only FMA loop at once for
// `seconds`; 0 when the table has no such loop.
double measured_peak_flops(const kernels::KernelTable& table, int threads, double seconds);

// The same for the int8 table's dot-product loop, in multiply-adds per second; 0 when the
// table has none.
double measured_int8_peak_macs(const kernels::Int8KernelTable& table, int threads, double seconds);

}  // namespace tinception
