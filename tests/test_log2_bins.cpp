// The calibration histogram's bin lookup (quant/log2_bins.cpp) against its definition,
// floor((log2(v) + 24) * 64) computed in double.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

#include "quant/log2_bins.hpp"

using namespace tinception;

namespace {

float from_bits(std::uint32_t bits) {
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

}  // namespace

TEST_CASE("log2_bin: every float of the octave [1, 2) lands where log2 puts it") {
    long mismatches = 0;
    for (std::uint32_t mantissa = 0; mantissa < (1u << 23); ++mantissa) {
        const float v = from_bits(0x3F800000u | mantissa);
        if (log2_bin(v) != log2_bin_by_log2(v)) ++mismatches;
    }
    CHECK(mismatches == 0);
}

TEST_CASE("log2_bin: random floats of every octave, the histogram's ends, and what lies past them") {
    std::mt19937 rng(5);
    std::uniform_int_distribution<std::uint32_t> bits(1, 0x7F7FFFFFu);  // positive, finite
    long mismatches = 0;
    for (int i = 0; i < 2'000'000; ++i) {
        const float v = from_bits(bits(rng));
        if (log2_bin(v) != log2_bin_by_log2(v)) ++mismatches;
    }
    CHECK(mismatches == 0);
    CHECK(log2_bin(std::ldexp(1.0f, kLowestOctave)) == 0);
    CHECK(log2_bin(std::nextafter(std::ldexp(1.0f, kLowestOctave), 0.0f)) == 0);  // below: clamped
    CHECK(log2_bin(std::numeric_limits<float>::denorm_min()) == 0);
    CHECK(log2_bin(1.0f) == -kLowestOctave * kBinsPerOctave);
    CHECK(log2_bin(std::nextafter(2.0f, 0.0f)) == (1 - kLowestOctave) * kBinsPerOctave - 1);
    CHECK(log2_bin(2.0f) == (1 - kLowestOctave) * kBinsPerOctave);
    CHECK(log2_bin(std::numeric_limits<float>::max()) == kLog2Bins - 1);
    CHECK(log2_bin(std::numeric_limits<float>::infinity()) == kLog2Bins - 1);
}
