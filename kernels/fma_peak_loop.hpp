// The register-only FMA loop behind KernelTable::fma_peak, over any ISA's vector operations
// (simd_*.hpp). No memory traffic, so the number is the FMA pipes' throughput at the clock
// they actually run at. Internal linkage: each ISA file compiles its own copy.
#pragma once
#include <time.h>

namespace tinception::kernels {
namespace {

inline double monotonic_seconds() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Chains: enough independent accumulators to cover FMA latency (4-5 cycles) times two
// pipes, few enough to stay in registers with the two constants (10 of 16 ymm; 16 of 32 zmm).
template <class S, int Chains>
double fma_peak_loop(double seconds) {
    constexpr long kInnerSteps = 1 << 14;
    typename S::V acc[Chains];
    for (int i = 0; i < Chains; ++i) acc[i] = S::set1(float(i) * 1e-3f);
    const typename S::V mul = S::set1(0.999999f);
    const typename S::V add = S::set1(1e-7f);
    long steps = 0;
    const double start = monotonic_seconds();
    double elapsed = 0.0;
    do {
        for (long s = 0; s < kInnerSteps; ++s)
            for (int i = 0; i < Chains; ++i) acc[i] = S::fmadd(acc[i], mul, add);
        steps += kInnerSteps;
        elapsed = monotonic_seconds() - start;
    } while (elapsed < seconds);
    typename S::V sum = acc[0];
    for (int i = 1; i < Chains; ++i) sum = S::add(sum, acc[i]);
    // Keeps the loop alive: the result is used, though never meaningfully.
    float lanes[S::kLanes];
    S::store(lanes, S::mask(S::kLanes), sum);
    volatile float sink = lanes[0];
    (void)sink;
    return double(steps) * Chains * S::kLanes * 2 / elapsed;
}

}  // namespace
}  // namespace tinception::kernels
