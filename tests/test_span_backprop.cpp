// Backpropagation through a span of a graph (finetune/span_backprop.cpp) on a tiny random
// Inception-like block: every convolution's weight and bias gradient and the span input's
// gradient against central finite differences of the span's own forward pass on the reference
// kernels; the fastest tables against the reference; spans it must refuse.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "error.hpp"
#include "finetune/span_backprop.hpp"
#include "gradient_check.hpp"
#include "kernel_dispatch.hpp"
#include "kernel_fixtures.hpp"
#include "parallel/thread_pool.hpp"
#include "tiny_span_graph.hpp"

using namespace tinception;
using namespace tinception::testing;

TEST_CASE("span backprop: every gradient of a tiny block matches finite differences of its forward") {
    const TinyGraph g;
    SpanBackprop span(g.graph, "stem", "top", kernels::reference_kernels(), kernels::reference_backward_kernels());
    const int n = 2;
    const ActivationShape in = span.input_shape(), out = span.output_shape();
    CHECK(in.h == 5);
    CHECK(in.w == 6);
    CHECK(in.c == 4);
    CHECK(out.c == 5);
    REQUIRE(span.convolutions().size() == 6);
    std::vector<float> input(std::size_t(n) * in.h * in.w * in.c);
    fill_uniform(input.data(), input.size(), 3, 0.0f, 1.0f);  // a ReLU's output: never negative
    std::vector<float> grad_output(std::size_t(n) * out.h * out.w * out.c), output(grad_output.size());
    fill_uniform(grad_output.data(), grad_output.size(), 4);
    const auto loss = [&] {
        const float* o = span.forward(input.data(), n);
        output.assign(o, o + output.size());
        return weighted_sum(output, grad_output);
    };
    loss();
    // some ReLUs of the last layer are off: the masks are exercised
    CHECK(std::count(output.begin(), output.end(), 0.0f) > 0);
    CHECK(std::count(output.begin(), output.end(), 0.0f) < long(output.size()));
    const float* g_in = span.backward(grad_output.data());
    const std::vector<float> grad_input(g_in, g_in + input.size());
    double worst = 0.0;
    GradientReport r = check_gradient(input.data(), input.size(), grad_input.data(), loss, 0.01, true);
    require_close_gradient(r, "span input");
    worst = std::max(worst, r.worst);
    for (TrainableConv& c : span.convolutions()) {
        const std::vector<float> grad_w = c.grad_weights, grad_b = c.grad_bias;
        r = check_gradient(c.weights.data(), c.weights.size(), grad_w.data(), loss, 0.01, true);
        require_close_gradient(r, c.name + " weights");
        worst = std::max(worst, r.worst);
        r = check_gradient(c.bias.data(), c.bias.size(), grad_b.data(), loss, 0.01, true);
        require_close_gradient(r, c.name + " bias");
        worst = std::max(worst, r.worst);
    }
    MESSAGE("span backprop through 6 convolutions, 2 pools and a concat: worst relative error " << worst);
}

TEST_CASE("span backprop: the fastest kernel tables give the reference's gradients") {
    const TinyGraph g;
    const kernels::BackwardKernelTable* tables[3];
    const int count = kernels::available_backward_tables(tables);
    SpanBackprop reference(g.graph, "stem", "top", kernels::reference_kernels(), kernels::reference_backward_kernels());
    SpanBackprop fast(g.graph, "stem", "top", *available_kernel_tables().back(), *tables[count - 1]);
    MESSAGE("fast tables: " << std::string(available_kernel_tables().back()->isa_name) << " forward, "
                            << std::string(tables[count - 1]->isa_name)
                            << " backward");
    const int n = 3;
    const ActivationShape in = reference.input_shape(), out = reference.output_shape();
    std::vector<float> input(std::size_t(n) * in.h * in.w * in.c), grad_output(std::size_t(n) * out.h * out.w * out.c);
    fill_uniform(input.data(), input.size(), 8, 0.0f, 1.0f);
    fill_uniform(grad_output.data(), grad_output.size(), 9);
    const float* expected_out = reference.forward(input.data(), n);
    const float* actual_out = fast.forward(input.data(), n);
    const Tolerance tol = sum_tolerance(18 * 9 * 4, 1.0);  // the widest sum: top's, over a few layers
    check_close(expected_out, actual_out, grad_output.size(), tol);
    check_close(reference.backward(grad_output.data()), fast.backward(grad_output.data()), input.size(), tol);
    for (std::size_t i = 0; i < reference.convolutions().size(); ++i) {
        const TrainableConv &e = reference.convolutions()[i], &a = fast.convolutions()[i];
        CAPTURE(e.name);
        check_close(e.grad_weights.data(), a.grad_weights.data(), e.grad_weights.size(), tol);
        check_close(e.grad_bias.data(), a.grad_bias.data(), e.grad_bias.size(), tol);
    }
}

TEST_CASE("span backprop: spans that cannot be trained are refused, naming the layer") {
    const TinyGraph g;
    const auto error = [&](const std::string& from, const std::string& to) -> std::string {
        try {
            SpanBackprop(g.graph, from, to, kernels::reference_kernels(), kernels::reference_backward_kernels());
        } catch (const Error& e) {
            return e.what();
        }
        return "";
    };
    CHECK(error("stem", "top").empty());
    CHECK(error("nope", "top").find("no layer named 'nope'") != std::string::npos);
    CHECK(error("stem", "nope").find("no layer named 'nope'") != std::string::npos);
    // from b2a, the block's other branches read the frozen stem
    CHECK(error("b2a", "top").find("reads 'stem'") != std::string::npos);
    CHECK(error("top", "b1").find("does not follow") != std::string::npos);
}

TEST_CASE("span backprop: the same bits on one thread and on several") {
    const TinyGraph g;
    const kernels::BackwardKernelTable* tables[3];
    const int count = kernels::available_backward_tables(tables);
    const int n = 3;
    struct Result {
        std::vector<float> output, grad_input, grads;
    };
    const auto run = [&](int threads) {
        set_thread_count(threads);
        SpanBackprop span(g.graph, "stem", "top", *available_kernel_tables().back(), *tables[count - 1]);
        const ActivationShape in = span.input_shape(), out = span.output_shape();
        std::vector<float> input(std::size_t(n) * in.h * in.w * in.c), grad_output(std::size_t(n) * out.h * out.w * out.c);
        fill_uniform(input.data(), input.size(), 8, 0.0f, 1.0f);
        fill_uniform(grad_output.data(), grad_output.size(), 9);
        Result r;
        const float* o = span.forward(input.data(), n);
        r.output.assign(o, o + grad_output.size());
        const float* gi = span.backward(grad_output.data());
        r.grad_input.assign(gi, gi + input.size());
        for (const TrainableConv& c : span.convolutions()) {
            r.grads.insert(r.grads.end(), c.grad_weights.begin(), c.grad_weights.end());
            r.grads.insert(r.grads.end(), c.grad_bias.begin(), c.grad_bias.end());
        }
        return r;
    };
    const int before = thread_count();
    const Result one = run(1), several = run(3);
    set_thread_count(before);
    CHECK(one.output == several.output);
    CHECK(one.grad_input == several.grad_input);
    CHECK(one.grads == several.grads);
}
