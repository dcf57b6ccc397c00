// Register-only AVX-512 FMA loop measuring the fp32 peak one thread reaches. No memory
// traffic, so the number is the FMA pipes' throughput at the clock they actually run at.
#include <immintrin.h>
#include <time.h>

#include "fma_peak.hpp"
#include "kernel_table.hpp"

namespace tinception::kernels {
namespace {

double now_s() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// 16 independent accumulator chains cover FMA latency (4-5 cycles) times two pipes.
constexpr int kChains = 16;
constexpr long kInnerSteps = 1 << 14;

}  // namespace

double fma_peak_avx512(double seconds) {
    __m512 acc[kChains];
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(float(i) * 1e-3f);
    const __m512 mul = _mm512_set1_ps(0.999999f);
    const __m512 add = _mm512_set1_ps(1e-7f);
    long steps = 0;
    const double start = now_s();
    double elapsed = 0.0;
    do {
        for (long s = 0; s < kInnerSteps; ++s)
            for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], mul, add);
        steps += kInnerSteps;
        elapsed = now_s() - start;
    } while (elapsed < seconds);
    __m512 sum = acc[0];
    for (int i = 1; i < kChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
    // Keeps the loop alive: the result is used, though never meaningfully.
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, sum);
    volatile float sink = lanes[0];
    (void)sink;
    return double(steps) * kChains * 16 * 2 / elapsed;
}

}  // namespace tinception::kernels
