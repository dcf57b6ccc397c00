// Backpropagation through a real Inception v3 block (mixed6 to mixed7, the span fine-tuning
// starts with) on the real weights: the fastest backward table against the reference backward,
// both behind the same forward table (so both see the same ReLU masks: a forward table that
// rounds differently could flip an output sitting at zero, and with it a gradient), and what
// one image's pass costs with each (printed, never asserted).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "check_close.hpp"
#include "finetune/span_backprop.hpp"
#include "kernel_dispatch.hpp"
#include "kernel_fixtures.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;
using namespace tinception::testing;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Largest |expected - actual| over the largest |expected|: how far apart two gradients are at
// their own scale.
double relative_gap(const float* expected, const float* actual, std::size_t count) {
    double gap = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < count; ++i) {
        gap = std::max(gap, double(std::fabs(expected[i] - actual[i])));
        scale = std::max(scale, double(std::fabs(expected[i])));
    }
    return scale > 0.0 ? gap / scale : gap;
}

}  // namespace

TEST_CASE("span backprop on the real weights: mixed6 to mixed7, fast tables against the reference") {
    const char* path = std::getenv("TINCEPTION_WEIGHTS");
    const std::string variable = "TINCEPTION_WEIGHTS";
    REQUIRE_MESSAGE((path && std::filesystem::exists(path)), variable << " does not name the weight file; run tools/test.sh");
    const WeightFile weights = WeightFile::open(path);
    const kernels::BackwardKernelTable* tables[3];
    const int count = kernels::available_backward_tables(tables);
    const kernels::KernelTable& forward = *available_kernel_tables().back();
    SpanBackprop reference(weights.graph(), "mixed6", "mixed7", forward, kernels::reference_backward_kernels());
    SpanBackprop fast(weights.graph(), "mixed6", "mixed7", forward, *tables[count - 1]);
    CHECK(reference.convolutions().size() == 10);
    const ActivationShape in = reference.input_shape(), out = reference.output_shape();
    std::vector<float> input(std::size_t(in.h) * in.w * in.c), grad_output(std::size_t(out.h) * out.w * out.c);
    fill_uniform(input.data(), input.size(), 21, 0.0f, 2.0f);  // a ReLU block's output
    fill_uniform(grad_output.data(), grad_output.size(), 22, -1e-3f, 1e-3f);

    auto start = std::chrono::steady_clock::now();
    const float* o = reference.forward(input.data(), 1);
    const std::vector<float> expected_out(o, o + grad_output.size());
    const float* g = reference.backward(grad_output.data());
    const std::vector<float> expected_grad(g, g + input.size());
    const double reference_seconds = seconds_since(start);
    start = std::chrono::steady_clock::now();
    const float* actual_out = fast.forward(input.data(), 1);
    const float* actual_grad = fast.backward(grad_output.data());
    const double fast_seconds = seconds_since(start);
    MESSAGE("mixed6 -> mixed7, one image, " << forward.isa_name << " forward + backward: reference "
            << reference_seconds << " s, " << std::string(tables[count - 1]->isa_name) << " " << fast_seconds << " s");

    const double limit = 1e-4;
    CHECK(expected_out == std::vector<float>(actual_out, actual_out + expected_out.size()));  // one forward table
    CHECK(relative_gap(expected_grad.data(), actual_grad, expected_grad.size()) < limit);
    for (std::size_t i = 0; i < reference.convolutions().size(); ++i) {
        const TrainableConv &e = reference.convolutions()[i], &a = fast.convolutions()[i];
        CAPTURE(e.name);
        CHECK(relative_gap(e.grad_weights.data(), a.grad_weights.data(), e.grad_weights.size()) < limit);
        CHECK(relative_gap(e.grad_bias.data(), a.grad_bias.data(), e.grad_bias.size()) < limit);
    }
}
