// Dense + softmax cross-entropy backward against central finite differences of the forward
// references (dense_ref's logits, the cross-entropy summed here in double).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "backward/backward_kernels.hpp"
#include "gradient_check.hpp"
#include "kernel_fixtures.hpp"
#include "reference.hpp"

using namespace tinception;
using namespace tinception::testing;

namespace {

struct DenseCase {
    int n, in_features, out_features;
    bool bias, row_weights;
};

// L = (1/n) sum_b r_b * (logsumexp(z_b) - z_b[y_b]) over the logits dense_ref writes.
double cross_entropy(const std::vector<float>& logits, const std::vector<int>& labels,
                     const std::vector<float>& row_weights, int classes) {
    double total = 0.0;
    for (std::size_t b = 0; b < labels.size(); ++b) {
        const float* z = logits.data() + b * std::size_t(classes);
        double top = z[0], sum = 0.0;
        for (int j = 1; j < classes; ++j) top = std::max(top, double(z[j]));
        for (int j = 0; j < classes; ++j) sum += std::exp(double(z[j]) - top);
        const double r = row_weights.empty() ? 1.0 : row_weights[b];
        total += r * (top + std::log(sum) - z[labels[b]]);
    }
    return total / double(labels.size());
}

}  // namespace

TEST_CASE("dense + softmax cross-entropy backward matches finite differences of the forward") {
    const DenseCase cases[] = {
        {3, 13, 5, true, true},     // odd sizes, weighted rows
        {1, 1, 2, true, false},     // smallest: one feature, two classes
        {4, 33, 7, false, false},   // no bias
        {5, 17, 3, true, true},     // more rows than classes
    };
    double worst = 0.0;
    std::uint32_t seed = 31;
    for (const DenseCase& dc : cases) {
        CAPTURE(dc.n);
        CAPTURE(dc.in_features);
        CAPTURE(dc.out_features);
        std::vector<float> input(std::size_t(dc.n) * dc.in_features), weights(std::size_t(dc.out_features) * dc.in_features),
            bias(std::size_t(dc.out_features)), logits(std::size_t(dc.n) * dc.out_features), row_weights;
        fill_uniform(input.data(), input.size(), seed += 4);
        fill_uniform(weights.data(), weights.size(), seed + 1);
        fill_uniform(bias.data(), bias.size(), seed + 2);
        if (dc.row_weights) {
            row_weights.resize(std::size_t(dc.n));
            fill_uniform(row_weights.data(), row_weights.size(), seed + 3, 0.25f, 2.0f);
        }
        std::vector<int> labels(std::size_t(dc.n));
        for (int b = 0; b < dc.n; ++b) labels[std::size_t(b)] = (b * 7 + 3) % dc.out_features;

        kernels::DenseSoftmaxBackwardArgs a;
        a.input = input.data(), a.weights = weights.data(), a.bias = dc.bias ? bias.data() : nullptr;
        a.labels = labels.data(), a.row_weights = dc.row_weights ? row_weights.data() : nullptr;
        a.n = dc.n, a.in_features = dc.in_features, a.out_features = dc.out_features;
        const auto loss = [&] {
            kernels::DenseArgs d;
            d.input = input.data(), d.weights = weights.data(), d.bias = a.bias, d.output = logits.data();
            d.n = dc.n, d.in_features = dc.in_features, d.out_features = dc.out_features;
            kernels::dense_ref(d);
            return cross_entropy(logits, labels, row_weights, dc.out_features);
        };
        std::vector<float> grad_input(input.size()), grad_weights(weights.size()), grad_bias(bias.size());
        a.grad_input = grad_input.data(), a.grad_weights = grad_weights.data(), a.grad_bias = grad_bias.data();
        const double reported_loss = kernels::dense_softmax_backward_ref(a);
        CHECK(reported_loss == doctest::Approx(loss()).epsilon(1e-6));

        const double h = 1e-2;  // smooth: the step's own error is about h^2 / 6 of the third derivative
        GradientReport r = check_gradient(input.data(), input.size(), grad_input.data(), loss, h, false);
        require_close_gradient(r, "input");
        worst = std::max(worst, r.worst);
        r = check_gradient(weights.data(), weights.size(), grad_weights.data(), loss, h, false);
        require_close_gradient(r, "weights");
        worst = std::max(worst, r.worst);
        if (dc.bias) {
            r = check_gradient(bias.data(), bias.size(), grad_bias.data(), loss, h, false);
            require_close_gradient(r, "bias");
            worst = std::max(worst, r.worst);
        }
    }
    MESSAGE("dense + softmax cross-entropy backward, reference: worst relative error " << worst);
}
