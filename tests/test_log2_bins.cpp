// The calibration histogram's bin lookup (kernels/int8/log2_bins.cpp) against its definition,
// floor((log2(v) + 24) * 64) computed in double; and the ranges the calibration rules read
// from such a histogram (quant/activation_ranges.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "quant/activation_ranges.hpp"
#include "int8/log2_bins.hpp"

using namespace tinception;
using namespace tinception::kernels;

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

namespace {

// A histogram of `count` values v each, added to `bins`.
void add_values(std::vector<std::uint64_t>& bins, float v, std::uint64_t count) { bins[std::size_t(log2_bin(v))] += count; }

double upper_edge(std::size_t b) { return std::exp2(double(b + 1) / kBinsPerOctave + kLowestOctave); }

// The squared error the mse rule weighs, for range t: each value at its bin's geometric middle
// (never above the largest), clipped above t, rounded to steps of t / 255 below it.
double squared_error(const std::vector<std::uint64_t>& bins, float max, double t) {
    double error = 0;
    for (std::size_t b = 0; b < bins.size(); ++b) {
        if (bins[b] == 0) continue;
        const double v = std::min(double(max), std::exp2((double(b) + 0.5) / kBinsPerOctave + kLowestOctave));
        error += double(bins[b]) * (v > t ? (v - t) * (v - t) : (t / 255.0) * (t / 255.0) / 12.0);
    }
    return error;
}

}  // namespace

TEST_CASE("range rules: parsed and written back; max, a percentile and the least squared error read from a histogram") {
    CHECK(range_rule_text(parse_range_rule("max")) == "max");
    CHECK(range_rule_text(parse_range_rule("mse")) == "mse");
    CHECK(range_rule_text(parse_range_rule("p99.999")) == "p99.999");
    CHECK_THROWS(parse_range_rule("mse2"));

    std::vector<std::uint64_t> bins(std::size_t(kLog2Bins), 0);
    SUBCASE("one value, many times: every rule keeps it unclipped") {
        add_values(bins, 3.0f, 1000);
        for (const char* rule : {"max", "mse", "p99.999", "p50"}) {
            CAPTURE(rule);
            CHECK(range_from_histogram(bins, 1000, 3.0f, parse_range_rule(rule)) == 3.0f);
        }
    }
    SUBCASE("ten million values near 1 and one at 1000: mse clips the outlier where clipping and rounding balance") {
        add_values(bins, 1.0f, 10000000);
        add_values(bins, 1000.0f, 1);
        const std::uint64_t positives = 10000001;
        CHECK(range_from_histogram(bins, positives, 1000.0f, parse_range_rule("max")) == 1000.0f);
        const float mse = range_from_histogram(bins, positives, 1000.0f, parse_range_rule("mse"));
        // (1000 - t)^2 + 1e7 (t / 255)^2 / 12 is least near t = 1000 / (1 + 1e7 / (255^2 12)) = 72.4.
        CHECK(mse > 70.0f);
        CHECK(mse < 75.0f);
        // No bin edge below the largest value does better by the rule's own measure.
        const double chosen = squared_error(bins, 1000.0f, mse);
        for (std::size_t b = 0; b < bins.size() && upper_edge(b) < 1000.0; ++b)
            CHECK(squared_error(bins, 1000.0f, upper_edge(b)) >= chosen * (1 - 1e-6));  // the chosen edge in float
        CHECK(squared_error(bins, 1000.0f, 1000.0) > chosen);
        // The median is the bin of 1.0: its upper edge.
        const float median = range_from_histogram(bins, positives, 1000.0f, parse_range_rule("p50"));
        CHECK(median > 1.0f);
        CHECK(median < 1.011f);
    }
}
