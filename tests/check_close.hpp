// Element-wise comparison of a kernel's output with the reference, with a tolerance
// derived from the arithmetic, and a report that names the first mismatching indices.
// Does not decide which outputs to compare; fixtures pass the elements that matter.
#pragma once
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <functional>
#include <sstream>
#include <string>

namespace tinception::testing {

// |expected - actual| <= abs + rel * |expected|
struct Tolerance {
    double abs = 0.0;
    double rel = 0.0;
};

// A float sum of `terms` products, each at most `max_term` in size, may drift by about
// terms * FLT_EPSILON * max_term between two summation orders; the +2 covers adding a
// bias and the final rounding to float. Both sides may round, hence the factor 2.
inline Tolerance sum_tolerance(long terms, double max_term) {
    return {2.0 * double(terms + 2) * FLT_EPSILON * max_term, 0.0};
}

// Names element i in a report, e.g. "(n=0, y=3, x=1, c=16)".
using IndexNamer = std::function<std::string(std::size_t)>;

inline IndexNamer flat_index() {
    return [](std::size_t i) { return "[" + std::to_string(i) + "]"; };
}

// Element i of an [n][h][w][pixel_stride] buffer, channels counted from its slice start.
inline IndexNamer nhwc_index(int h, int w, int pixel_stride) {
    return [=](std::size_t i) {
        const std::size_t c = i % std::size_t(pixel_stride), p = i / std::size_t(pixel_stride);
        const std::size_t x = p % std::size_t(w), y = p / std::size_t(w) % std::size_t(h),
                          n = p / (std::size_t(w) * std::size_t(h));
        return "(n=" + std::to_string(n) + ", y=" + std::to_string(y) + ", x=" + std::to_string(x) +
               ", c=" + std::to_string(c) + ")";
    };
}

struct CloseReport {
    bool ok = true;
    std::size_t mismatches = 0;
    std::string text;  // the first few mismatches and the count; empty when ok
};

// Compares expected[i] with actual[i] for i < count where include(i) (all when null), so a
// concat slice is compared without the channels around it. NaN only matches NaN.
inline CloseReport compare_close(const float* expected, const float* actual, std::size_t count,
                                 Tolerance tol, const IndexNamer& name = flat_index(),
                                 const std::function<bool(std::size_t)>& include = nullptr) {
    constexpr std::size_t kShown = 5;
    CloseReport report;
    std::ostringstream text;
    text.precision(9);
    for (std::size_t i = 0; i < count; ++i) {
        if (include && !include(i)) continue;
        const double e = expected[i], a = actual[i];
        const bool both_nan = std::isnan(e) && std::isnan(a);
        const double limit = tol.abs + tol.rel * std::fabs(e);
        if (both_nan || std::fabs(e - a) <= limit) continue;
        if (report.mismatches < kShown)
            text << "  at " << name(i) << ": expected " << e << ", got " << a << " (|diff| "
                 << std::fabs(e - a) << " > " << limit << ")\n";
        ++report.mismatches;
    }
    if (report.mismatches) {
        report.ok = false;
        report.text = std::to_string(report.mismatches) + " of " + std::to_string(count) +
                      " elements differ; first ones:\n" + text.str();
    }
    return report;
}

// Fails the current doctest case with the report (and keeps going); returns whether it matched.
inline bool check_close(const float* expected, const float* actual, std::size_t count,
                        Tolerance tol, const IndexNamer& name = flat_index(),
                        const std::function<bool(std::size_t)>& include = nullptr) {
    const CloseReport report = compare_close(expected, actual, count, tol, name, include);
    CHECK_MESSAGE(report.ok, report.text);
    return report.ok;
}

}  // namespace tinception::testing
