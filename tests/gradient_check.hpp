// Central finite differences of a scalar loss, element by element, against a backward
// kernel's gradient: the check every backward test runs against its forward reference.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace tinception::testing {

// What one tensor's check saw, for the report and the assertions.
struct GradientReport {
    double worst = 0.0;   // largest relative error over the elements compared
    int compared = 0;
    int skipped = 0;      // kinks crossed (piecewise-linear losses only)
    std::string worst_at;
};

// Relative error of each element: |analytic - fd| / max(|analytic|, |fd|, floor), floor being
// 5% of the tensor's largest finite difference, so gradients near zero are judged against
// the tensor's scale rather than their own (float rounding in the forward output is about
// 1e-6 of that scale per step; 1e-3 leaves room for it, not for a wrong term).
constexpr double kMaxRelativeError = 1e-3;
constexpr double kFloorFraction = 0.05;

// Loss sums weight[i] * output[i] in double: its gradient with respect to the output is the
// weights, the grad_output a backward kernel is handed.
inline double weighted_sum(const std::vector<float>& output, const std::vector<float>& weights) {
    double sum = 0.0;
    for (std::size_t i = 0; i < output.size(); ++i) sum += double(weights[i]) * double(output[i]);
    return sum;
}

// Up to `limit` element indices of a tensor of `count`, evenly spread, both ends included.
inline std::vector<std::size_t> sample_indices(std::size_t count, std::size_t limit) {
    std::vector<std::size_t> picked;
    if (count == 0) return picked;
    if (count <= limit) {
        for (std::size_t i = 0; i < count; ++i) picked.push_back(i);
        return picked;
    }
    for (std::size_t j = 0; j < limit; ++j) picked.push_back(j * (count - 1) / (limit - 1));
    return picked;
}

// One step of the check: the central difference and the four one-sided slopes at the step
// and half of it. Across a piecewise-linear loss's kink two of them part; where they agree
// within `allowed`, the loss is linear over [-step, step] as far as it can show.
struct DifferenceStep {
    double fd = 0.0;
    double slopes[4] = {};
    bool linear(double allowed) const {
        for (double slope : slopes)
            if (std::fabs(slope - fd) > allowed) return false;
        return true;
    }
};

inline DifferenceStep central_difference(float* x, const std::function<double()>& loss, double base, double step) {
    const float saved = *x;
    const auto at = [&](double offset) {
        *x = float(saved + offset);
        const double value = loss();
        *x = saved;
        return value;
    };
    const double up = at(step), down = at(-step), half_up = at(step / 2), half_down = at(-step / 2);
    DifferenceStep d;
    d.fd = (up - down) / (2.0 * step);
    d.slopes[0] = (up - base) / step, d.slopes[1] = (base - down) / step;
    d.slopes[2] = (half_up - base) / (step / 2), d.slopes[3] = (base - half_down) / (step / 2);
    return d;
}

// Perturbs param[i] for each sampled i and compares the central difference of the loss with
// analytic[i]. The loss is in double but the forward kernels round their outputs to float, so
// a large step keeps that rounding small against the difference. A piecewise-linear loss
// (ReLU, max) is exactly linear between kinks: where one lies within the step, the step
// shrinks (by 5, down to smallest_step) and an element still astride one is skipped (counted). A smooth
// loss takes the step given.
inline GradientReport check_gradient(float* param, std::size_t count, const float* analytic,
                                     const std::function<double()>& loss, double h, bool piecewise_linear,
                                     std::size_t limit = 48, double smallest_step = 1e-3) {
    const double base = loss();
    const std::vector<std::size_t> picked = sample_indices(count, limit);
    std::vector<DifferenceStep> points;
    double largest = 0.0;
    for (std::size_t i : picked) {
        points.push_back(central_difference(param + i, loss, base, h));
        largest = std::max(largest, std::fabs(points.back().fd));
    }
    const double floor = std::max(kFloorFraction * largest, 1e-12);
    // a kink error under half the tolerance cannot fail an element
    const auto allowed = [&](const DifferenceStep& d) {
        return piecewise_linear ? 0.5 * kMaxRelativeError * std::max(std::fabs(d.fd), floor) : INFINITY;
    };
    for (std::size_t j = 0; j < picked.size(); ++j)
        for (double step = h / 5; !points[j].linear(allowed(points[j])) && step >= smallest_step; step /= 5)
            points[j] = central_difference(param + picked[j], loss, base, step);
    GradientReport report;
    for (std::size_t j = 0; j < picked.size(); ++j) {
        const DifferenceStep& p = points[j];
        if (!p.linear(allowed(p))) {
            ++report.skipped;
            continue;
        }
        ++report.compared;
        const double a = analytic[picked[j]];
        const double err = std::fabs(a - p.fd) / std::max({std::fabs(a), std::fabs(p.fd), floor});
        if (err >= report.worst) {
            report.worst = err;
            report.worst_at = "[" + std::to_string(picked[j]) + "]: analytic " + std::to_string(a) +
                              ", finite difference " + std::to_string(p.fd);
        }
    }
    return report;
}

// The assertions every tensor's check ends with: most elements compared (a weight feeding
// hundreds of ReLUs may sit near a kink at any step that float rounding allows), each within
// kMaxRelativeError.
inline void require_close_gradient(const GradientReport& r, const std::string& what) {
    CAPTURE(what);
    CAPTURE(r.worst_at);
    CHECK(r.compared > 0);
    CHECK(r.skipped <= std::max(3, (r.compared + r.skipped) / 3));
    CHECK(r.worst < kMaxRelativeError);
}

}  // namespace tinception::testing
