// The AArch64 NEON register-only FMA loop (fma_peak_loop.hpp).
#include "fma_peak.hpp"
#include "fma_peak_loop.hpp"
#include "simd_neon.hpp"

namespace tinception::kernels {

// 16 chains: FMA latency (4 cycles) times up to four pipes on wide cores, 18 of 32 registers.
double fma_peak_neon(double seconds) { return fma_peak_loop<Neon, 16>(seconds); }

}  // namespace tinception::kernels
