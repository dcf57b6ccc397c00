// Fine-tuning a span with a new head (finetune/fine_tuner.cpp) on the tiny random block of
// tiny_span_graph.hpp: the loss's gradients against finite differences, the loss going down
// (through the span alone too), the same bits on one thread and on three, with and without
// progress, and sets it must refuse.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "error.hpp"
#include "finetune/fine_tuner.hpp"
#include "gradient_check.hpp"
#include "kernel_dispatch.hpp"
#include "parallel/thread_pool.hpp"
#include "tiny_span_graph.hpp"

using namespace tinception;
using namespace tinception::testing;

namespace {

constexpr int kClasses = 3;

// n images of the span's input: class k lifts channel k (and dims the others) by a noisy
// amount, so the classes are learnable but not separated at the start.
SpatialSet synthetic_set(const ActivationShape& shape, int n, std::uint32_t seed) {
    SpatialSet set;
    set.shape = shape;
    set.activations.resize(std::size_t(n) * set.floats_per_image());
    fill_uniform(set.activations.data(), set.activations.size(), seed, 0.0f, 1.0f);
    for (int i = 0; i < n; ++i) {
        const int label = i % kClasses;
        set.labels.push_back(label);
        float* image = set.activations.data() + std::size_t(i) * set.floats_per_image();
        for (std::size_t p = 0; p < std::size_t(shape.h) * shape.w; ++p)
            image[p * shape.c + std::size_t(label)] += 0.6f;
    }
    return set;
}

SoftmaxLayer random_head(int features, std::uint32_t seed) {
    SoftmaxLayer head;
    head.n_classes = kClasses, head.feature_size = features;
    head.weights.resize(std::size_t(kClasses) * features);
    head.bias.resize(kClasses);
    fill_uniform(head.weights.data(), head.weights.size(), seed, -0.5f, 0.5f);
    fill_uniform(head.bias.data(), head.bias.size(), seed + 1, -0.1f, 0.1f);
    return head;
}

double mean_loss(SpanBackprop& span, const SpatialSet& set, const SoftmaxLayer& head) {
    return evaluate(head, pooled_features(span, set, 8)).cross_entropy;
}

const kernels::BackwardKernelTable& fastest_backward() {
    const kernels::BackwardKernelTable* tables[3];
    return *tables[kernels::available_backward_tables(tables) - 1];
}

}  // namespace

TEST_CASE("fine-tuning: the loss's gradients match finite differences, decay and l2 included") {
    const TinyGraph g(0.0f);  // no ReLU kinks: the loss is smooth, every element can be compared
    SpanBackprop span(g.graph, "stem", "top", kernels::reference_kernels(), kernels::reference_backward_kernels());
    const SpatialSet set = synthetic_set(span.input_shape(), 4, 21);
    SoftmaxLayer head = random_head(span.output_shape().c, 22);
    std::vector<TrainableConv> initial = span.convolutions();
    for (TrainableConv& c : initial)  // W0 apart from W, so the decay term has a gradient
        for (float& w : c.weights) w *= 0.9f;
    FineTuneOptions options;
    options.span_weight_decay = 0.3f, options.head_l2 = 0.2f;
    const std::vector<float> row_weights = {1.0f, 0.5f, 2.0f, 1.5f};
    SoftmaxLayer head_gradient;
    const auto loss = [&] {
        return fine_tune_loss(span, kernels::reference_backward_kernels(), initial, head, set.activations.data(),
                              set.labels.data(), row_weights.data(), 4, options, &head_gradient);
    };
    loss();
    const SoftmaxLayer analytic_head = head_gradient;
    std::vector<std::vector<float>> analytic_w, analytic_b;
    for (const TrainableConv& c : span.convolutions()) analytic_w.push_back(c.grad_weights), analytic_b.push_back(c.grad_bias);

    require_close_gradient(check_gradient(head.weights.data(), head.weights.size(), analytic_head.weights.data(), loss,
                                          0.01, false),
                           "head weights");
    require_close_gradient(check_gradient(head.bias.data(), head.bias.size(), analytic_head.bias.data(), loss, 0.01, false),
                           "head bias");
    for (std::size_t k = 0; k < span.convolutions().size(); ++k) {
        TrainableConv& c = span.convolutions()[k];
        require_close_gradient(check_gradient(c.weights.data(), c.weights.size(), analytic_w[k].data(), loss, 0.01, false, 16),
                               c.name + " weights");
        require_close_gradient(check_gradient(c.bias.data(), c.bias.size(), analytic_b[k].data(), loss, 0.01, false),
                               c.name + " bias");
    }
}

TEST_CASE("fine-tuning: the training loss goes down, and through the span alone too") {
    const TinyGraph g;
    const kernels::KernelTable& forward = *available_kernel_tables().back();
    SpanBackprop span(g.graph, "stem", "top", forward, fastest_backward());
    const SpatialSet training = synthetic_set(span.input_shape(), 24, 31);
    const SoftmaxLayer head = random_head(span.output_shape().c, 32);
    const std::vector<TrainableConv> initial = span.convolutions();
    const double before = mean_loss(span, training, head);
    FineTuneOptions options;
    options.steps = 60, options.batch_size = 8;
    options.head_learning_rate = 1e-2f, options.span_learning_rate = 1e-2f;

    SUBCASE("span and head") {
        const FineTuneOutcome out = fine_tune(span, fastest_backward(), training, SpatialSet{}, head, options);
        const double after = mean_loss(span, training, out.head);
        MESSAGE("cross-entropy " << before << " -> " << after);
        CHECK(after < 0.5 * before);
        CHECK(out.steps_run == 60);
        CHECK(out.best_step == -1);
    }
    SUBCASE("the span alone: the head barely moves") {
        options.head_learning_rate = 1e-9f;
        const FineTuneOutcome out = fine_tune(span, fastest_backward(), training, SpatialSet{}, head, options);
        const double after = mean_loss(span, training, out.head);
        MESSAGE("cross-entropy with the head held " << before << " -> " << after);
        CHECK(after < 0.9 * before);
        CHECK(out.convolutions[0].weights != initial[0].weights);
        // the span keeps the weights returned
        CHECK(span.convolutions()[0].weights == out.convolutions[0].weights);
    }
}

TEST_CASE("fine-tuning: the same bits on one thread and on three, with and without progress") {
    const TinyGraph g;
    const auto run = [&](int threads, bool with_progress) {
        set_thread_count(threads);
        SpanBackprop span(g.graph, "stem", "top", *available_kernel_tables().back(), fastest_backward());
        const SpatialSet training = synthetic_set(span.input_shape(), 20, 41);
        const SpatialSet validation = synthetic_set(span.input_shape(), 7, 42);
        FineTuneOptions options;
        options.steps = 25, options.batch_size = 6, options.eval_step_interval = 4;
        options.head_learning_rate = 1e-2f, options.span_learning_rate = 1e-2f;
        options.class_weighting = true, options.seed = 7;
        int reports = 0;
        const FineTuneOutcome out =
            fine_tune(span, fastest_backward(), training, validation, random_head(span.output_shape().c, 43), options,
                      with_progress ? ProgressCallback([&](const TrainProgress&) { ++reports; }) : ProgressCallback{});
        CHECK(reports == (with_progress ? 7 : 0));  // steps 0, 4, ..., 24
        std::vector<float> bits = out.head.weights;
        bits.insert(bits.end(), out.head.bias.begin(), out.head.bias.end());
        for (const TrainableConv& c : out.convolutions) {
            bits.insert(bits.end(), c.weights.begin(), c.weights.end());
            bits.insert(bits.end(), c.bias.begin(), c.bias.end());
        }
        bits.push_back(float(out.best_step));
        return bits;
    };
    const int before = thread_count();
    const std::vector<float> one = run(1, false), three = run(3, true), three_quiet = run(3, false);
    set_thread_count(before);
    REQUIRE(one.size() == three.size());
    CHECK(std::memcmp(one.data(), three.data(), one.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(one.data(), three_quiet.data(), one.size() * sizeof(float)) == 0);
}

TEST_CASE("fine-tuning: sets of another shape, labels out of range and bad options are refused") {
    const TinyGraph g;
    SpanBackprop span(g.graph, "stem", "top", kernels::reference_kernels(), kernels::reference_backward_kernels());
    const SoftmaxLayer head = random_head(span.output_shape().c, 5);
    const SpatialSet good = synthetic_set(span.input_shape(), 6, 6);
    const auto error = [&](const SpatialSet& training, const SoftmaxLayer& h, FineTuneOptions options) -> std::string {
        options.steps = 1, options.batch_size = 2;
        try {
            fine_tune(span, kernels::reference_backward_kernels(), training, SpatialSet{}, h, options);
        } catch (const Error& e) {
            return e.what();
        }
        return "";
    };
    CHECK(error(good, head, {}).empty());
    CHECK(error(SpatialSet{}, head, {}).find("training set is empty") != std::string::npos);
    SpatialSet wrong = synthetic_set(ActivationShape{5, 5, 4}, 6, 6);
    CHECK(error(wrong, head, {}).find("the span reads 5x6x4") != std::string::npos);
    SpatialSet bad_label = good;
    bad_label.labels[2] = kClasses;
    CHECK(error(bad_label, head, {}).find("label 3") != std::string::npos);
    CHECK(error(good, random_head(4, 5), {}).find("the span gives 5") != std::string::npos);
    FineTuneOptions zero_rate;
    zero_rate.head_learning_rate = 0.0f;
    CHECK(error(good, head, zero_rate).find("head learning rate") != std::string::npos);
}
