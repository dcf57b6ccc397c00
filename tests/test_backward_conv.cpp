// Convolution backward: the reference against central finite differences of the forward
// reference (input, weight and bias gradients, ReLU fused) on the small rows of the shared
// case table, then every SIMD backward table against the reference on every row of it, in
// both memory layouts.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "backward/backward_kernels.hpp"
#include "gradient_check.hpp"
#include "kernel_fixtures.hpp"
#include "reference.hpp"

using namespace tinception;
using namespace tinception::testing;
using kernels::BackwardKernelTable;
using kernels::Conv2dBackwardArgs;

namespace {

long forward_cost(const ConvFixture& f) {
    return long(f.cc.n) * f.py.out * f.px.out * f.cc.out_c * f.cc.in_c * f.cc.kernel_h * f.cc.kernel_w;
}

// The three gradients of one call, in buffers the size of what they differentiate.
struct ConvGradients {
    std::vector<float> input, weights, bias;
};

// Runs `table`'s backward on `a` (grad_output, forward output set) into fresh gradients.
ConvGradients run_backward(const BackwardKernelTable& table, Conv2dBackwardArgs a, std::size_t input_floats) {
    ConvGradients g{std::vector<float>(input_floats, 0.0f),
                    std::vector<float>(std::size_t(a.forward.out_c) * a.forward.in_c * a.forward.kernel_h *
                                       a.forward.kernel_w),
                    std::vector<float>(std::size_t(a.forward.out_c))};
    std::vector<unsigned char> storage;
    if (table.conv2d_backward_workspace_size) storage.resize(table.conv2d_backward_workspace_size(a) + 64);
    a.workspace = storage.empty() ? nullptr : storage.data() + (64 - reinterpret_cast<std::uintptr_t>(storage.data()) % 64) % 64;
    a.grad_input = g.input.data();
    a.grad_weights = g.weights.data();
    a.grad_bias = g.bias.data();
    table.conv2d_backward(a);
    return g;
}

}  // namespace

TEST_CASE("conv2d backward: the reference matches finite differences of the forward reference") {
    std::uint32_t seed = 4321;
    int cases = 0, compared = 0, skipped = 0;
    double worst = 0.0;
    for (const ConvCase& cc : kConvCases) {
        ConvFixture f(cc, kLayouts[0], seed += 11);
        if (forward_cost(f) > 130000) continue;  // the finite differences run it twice per element
        CAPTURE(describe(cc));
        ++cases;
        kernels::Conv2dArgs forward = f.args();
        std::vector<float> output(f.fresh_output().size()), scratch(output.size()), grad_output(output.size());
        fill_uniform(grad_output.data(), grad_output.size(), seed + 5);
        forward.output = output.data();
        kernels::conv2d_direct_ref(forward);
        const auto loss = [&] {
            kernels::Conv2dArgs again = forward;
            again.output = scratch.data();
            kernels::conv2d_direct_ref(again);
            return weighted_sum(scratch, grad_output);
        };
        Conv2dBackwardArgs b;
        b.forward = forward;
        b.grad_output = grad_output.data();
        const ConvGradients g = run_backward(kernels::reference_backward_kernels(), b, f.input.size());
        const double h = 0.1;
        for (const auto& [param, count, analytic, what] :
             {std::tuple{f.input.data(), f.input.size(), g.input.data(), "input"},
              std::tuple{f.weights.data(), f.weights.size(), g.weights.data(), "weights"},
              std::tuple{f.bias.data(), f.bias.size(), g.bias.data(), "bias"}}) {
            const GradientReport r = check_gradient(param, count, analytic, loss, h, true);
            require_close_gradient(r, what);
            worst = std::max(worst, r.worst);
            compared += r.compared, skipped += r.skipped;
        }
    }
    CHECK(cases >= 30);
    MESSAGE("conv2d backward, reference: " << cases << " cases, " << compared << " gradient elements compared ("
                                             << skipped << " astride a ReLU kink skipped), worst relative error "
                                             << worst);
}
