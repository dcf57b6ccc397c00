// The AVX2 register-only FMA loop (fma_peak_loop.hpp).
#include "fma_peak.hpp"
#include "fma_peak_loop.hpp"
#include "simd_avx2.hpp"

namespace tinception::kernels {

double fma_peak_avx2(double seconds) { return fma_peak_loop<Avx2, 10>(seconds); }

}  // namespace tinception::kernels
