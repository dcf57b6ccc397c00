// The AVX-512 register-only FMA loop (fma_peak_loop.hpp).
#include "fma_peak.hpp"
#include "fma_peak_loop.hpp"
#include "simd_avx512.hpp"

namespace tinception::kernels {

double fma_peak_avx512(double seconds) { return fma_peak_loop<Avx512, 16>(seconds); }

}  // namespace tinception::kernels
