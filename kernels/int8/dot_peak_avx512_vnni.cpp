// A register-only vpdpbusd loop: the u8 x s8 multiply-adds per second the VNNI convolution's
// instruction retires on one core at the clock it really runs, the int8 counterpart of the
// FMA loop (fma_peak_loop.hpp) that `tinception bench` measures the int8 network against.
#include <immintrin.h>

#include "fma_peak_loop.hpp"
#include "int8/int8_kernel_table.hpp"

namespace tinception::kernels {

double dot_peak_avx512_vnni(double seconds) {
    // Independent chains enough for the instruction's latency times two pipes.
    constexpr int kChains = 16;
    constexpr long kInnerSteps = 1 << 14;
    // Every loop over the chains unrolled, so they stay registers (rolled, GCC keeps them on
    // the stack and the loop measures loads and stores).
    __m512i acc[kChains];
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_epi32(i);
    const __m512i u8 = _mm512_set1_epi32(0x01020304), s8 = _mm512_set1_epi32(0x01FF01FF);
    long steps = 0;
    const double start = monotonic_seconds();
    double elapsed = 0.0;
    do {
        for (long s = 0; s < kInnerSteps; ++s)
#pragma GCC unroll 16
            for (int i = 0; i < kChains; ++i)  // in place, as the convolution writes it
                asm("vpdpbusd %2, %1, %0" : "+v"(acc[i]) : "v"(u8), "v"(s8));
        steps += kInnerSteps;
        elapsed = monotonic_seconds() - start;
    } while (elapsed < seconds);
    __m512i sum = acc[0];
#pragma GCC unroll 16
    for (int i = 1; i < kChains; ++i) sum = _mm512_add_epi32(sum, acc[i]);
    alignas(64) int lanes[16];
    _mm512_store_si512(lanes, sum);
    volatile int sink = lanes[0];  // keeps the loop alive
    (void)sink;
    return double(steps) * kChains * 64 / elapsed;  // 16 lanes x 4 products an instruction
}

}  // namespace tinception::kernels
