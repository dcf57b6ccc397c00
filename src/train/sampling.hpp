// Seeded random numbers whose values are fixed by this file, not by the standard library:
// std::mt19937_64's output is specified, the distributions are not, so they are written here.
#pragma once
#include <cmath>
#include <cstdint>
#include <random>

namespace tinception {

// Uniform integer in [0, n), n > 0: rejection of the top partial range, then modulo.
inline std::uint64_t uniform_index(std::mt19937_64& rng, std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // a multiple of n
    std::uint64_t x;
    do x = rng();
    while (x >= limit);
    return x % n;
}

// Uniform double in (0, 1): the top 53 bits, offset by half a step so 0 never occurs.
inline double uniform_open01(std::mt19937_64& rng) {
    return (double(rng() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

// Standard normal by Box-Muller (cosine branch only; one draw uses two uniforms).
inline double standard_normal(std::mt19937_64& rng) {
    const double u1 = uniform_open01(rng);
    const double u2 = uniform_open01(rng);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace tinception
