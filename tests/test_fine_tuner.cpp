// Fine-tuning a span with a new head (finetune/fine_tuner.cpp) on the tiny random block of
// tiny_span_graph.hpp, for one layer ("top") and for a layer set with a frozen layer, a
// tapped layer inside the span and the span's output ("stem,mix,top", standardised): the
// loss's gradients against finite differences, the loss going down (through the span alone
// too), the same bits on one thread and on three, with and without progress and with mirrored
// activations, the cross-validation of fine-tuning, and sets it must refuse.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "error.hpp"
#include "finetune/fine_tune_stage.hpp"
#include "finetune/fine_tuner.hpp"
#include "gradient_check.hpp"
#include "kernel_dispatch.hpp"
#include "parallel/thread_pool.hpp"
#include "tiny_span_graph.hpp"

using namespace tinception;
using namespace tinception::testing;

namespace {

constexpr int kClasses = 3;
const char* const kLayerSet = "stem,mix,top";  // frozen, tapped, the span's output

// n images of the span's input: class k lifts channel k (and dims the others) by a noisy
// amount, so the classes are learnable but not separated at the start; frozen values random.
SpatialSet synthetic_set(const TunedFeatures& features, int n, std::uint32_t seed) {
    SpatialSet set;
    set.shape = features.input_shape();
    set.activations.resize(std::size_t(n) * set.floats_per_image());
    fill_uniform(set.activations.data(), set.activations.size(), seed, 0.0f, 1.0f);
    set.frozen_size = features.frozen_size();
    set.frozen.resize(std::size_t(n) * std::size_t(set.frozen_size));
    fill_uniform(set.frozen.data(), set.frozen.size(), seed + 100, 0.0f, 1.0f);
    for (int i = 0; i < n; ++i) {
        const int label = i % kClasses;
        set.labels.push_back(label);
        float* image = set.activations.data() + std::size_t(i) * set.floats_per_image();
        for (std::size_t p = 0; p < std::size_t(set.shape.h) * set.shape.w; ++p)
            image[p * set.shape.c + std::size_t(label)] += 0.6f;
    }
    return set;
}

// `a` and then `b` in one set, with the rows of each.
struct Joined {
    SpatialSet set;
    std::vector<std::size_t> first, second;
};
Joined joined(const SpatialSet& a, const SpatialSet& b) {
    Joined j{a, {}, {}};
    j.set.activations.insert(j.set.activations.end(), b.activations.begin(), b.activations.end());
    j.set.frozen.insert(j.set.frozen.end(), b.frozen.begin(), b.frozen.end());
    j.set.labels.insert(j.set.labels.end(), b.labels.begin(), b.labels.end());
    for (std::size_t i = 0; i < a.size(); ++i) j.first.push_back(i);
    for (std::size_t i = 0; i < b.size(); ++i) j.second.push_back(a.size() + i);
    return j;
}

FineTuneOutcome tune(TunedFeatures& features, const SpatialSet& training, const SpatialSet& validation,
                     const SoftmaxLayer& head, const FineTuneOptions& options, const ProgressCallback& progress = {}) {
    const Joined j = joined(training, validation);
    return fine_tune(features, j.set, j.first, j.second, head, options, progress);
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

double mean_loss(TunedFeatures& features, const SpatialSet& set, const SoftmaxLayer& head) {
    return evaluate(head, pooled_features(features, set, all_rows(set), 8)).cross_entropy;
}

// Standardisation by the set's own starting features, as a training run does.
void standardise_by(TunedFeatures& features, const SpatialSet& set) {
    features.standardization = {};
    const FeatureSet start = pooled_features(features, set, all_rows(set), 8);
    features.standardization = fit_standardization(start.features.data(), start.size(), start.feature_size);
}

const kernels::BackwardKernelTable& fastest_backward() {
    const kernels::BackwardKernelTable* tables[3];
    return *tables[kernels::available_backward_tables(tables) - 1];
}

std::vector<float> bits_of(const FineTuneOutcome& out) {
    std::vector<float> bits = out.head.weights;
    bits.insert(bits.end(), out.head.bias.begin(), out.head.bias.end());
    for (const TrainableConv& c : out.convolutions) {
        bits.insert(bits.end(), c.weights.begin(), c.weights.end());
        bits.insert(bits.end(), c.bias.begin(), c.bias.end());
    }
    bits.push_back(float(out.best_step));
    return bits;
}

}  // namespace

TEST_CASE("fine-tuning: the layer set's parts: frozen, tapped in the span, the span's output") {
    const TinyGraph g;
    TunedFeatures features(g.graph, "stem", kLayerSet, kernels::reference_kernels(),
                           kernels::reference_backward_kernels());
    CHECK(features.frozen_layers() == std::vector<std::string>{"stem"});
    CHECK(features.frozen_size() == 4);
    CHECK(features.feature_size() == 4 + 18 + 5);
    const SpatialSet set = synthetic_set(features, 3, 3);
    std::vector<float> rows(3 * 27);
    features.forward(set.activations.data(), set.frozen.data(), 3, rows.data());
    // the frozen columns are handed through; the tapped ones are the concat's pooled output
    // (stem's own channels, the last 4 of mix, pooled from the activations themselves)
    for (int b = 0; b < 3; ++b)
        for (int c = 0; c < 4; ++c) {
            CHECK(rows[std::size_t(b * 27 + c)] == set.frozen_row(std::size_t(b))[c]);
            double mean = 0;
            for (int p = 0; p < 5 * 6; ++p) mean += set.image(std::size_t(b))[p * 4 + c];
            CHECK(rows[std::size_t(b * 27 + 4 + 14 + c)] == doctest::Approx(mean / 30).epsilon(1e-5));
        }
    const auto error = [&](const char* from, const char* layers) -> std::string {
        try {
            TunedFeatures(g.graph, from, layers, kernels::reference_kernels(), kernels::reference_backward_kernels());
        } catch (const Error& e) {
            return e.what();
        }
        return "";
    };
    CHECK(error("top", "stem,top").find("every layer of 'stem,top' is 'top' or comes before it") != std::string::npos);
    CHECK(error("stem", "mix,nope").find("no layer named 'nope'") != std::string::npos);
}

TEST_CASE("fine-tuning: the loss's gradients match finite differences, decay and l2 included") {
    const TinyGraph g(0.0f);  // no ReLU kinks: the loss is smooth, every element can be compared
    for (const char* layers : {"top", kLayerSet}) {
        CAPTURE(layers);
        TunedFeatures features(g.graph, "stem", layers, kernels::reference_kernels(),
                               kernels::reference_backward_kernels());
        const SpatialSet set = synthetic_set(features, 4, 21);
        if (std::string(layers) != "top") {  // a scaling of its own: 4 images' deviations would curve the loss
            const std::size_t f = std::size_t(features.feature_size());
            features.standardization.mean.resize(f), features.standardization.sd.resize(f);
            fill_uniform(features.standardization.mean.data(), f, 23, -0.5f, 0.5f);
            fill_uniform(features.standardization.sd.data(), f, 24, 1.0f, 3.0f);
        }
        SoftmaxLayer head = random_head(features.feature_size(), 22);
        std::vector<TrainableConv> initial = features.span().convolutions();
        for (TrainableConv& c : initial)  // W0 apart from W, so the decay term has a gradient
            for (float& w : c.weights) w *= 0.9f;
        FineTuneOptions options;
        options.span_weight_decay = 0.3f, options.head_l2 = 0.2f;
        const std::vector<float> row_weights = {1.0f, 0.5f, 2.0f, 1.5f};
        SoftmaxLayer head_gradient;
        const std::function<double()> loss = [&] {
            return fine_tune_loss(features, initial, head, set.activations.data(), set.frozen.data(), set.labels.data(),
                                  row_weights.data(), 4, options, &head_gradient);
        };
        loss();
        const SoftmaxLayer analytic_head = head_gradient;
        std::vector<std::vector<float>> analytic_w, analytic_b;
        for (const TrainableConv& c : features.span().convolutions())
            analytic_w.push_back(c.grad_weights), analytic_b.push_back(c.grad_bias);

        require_close_gradient(check_gradient(head.weights.data(), head.weights.size(), analytic_head.weights.data(),
                                              loss, 0.01, false),
                               "head weights");
        require_close_gradient(
            check_gradient(head.bias.data(), head.bias.size(), analytic_head.bias.data(), loss, 0.01, false), "head bias");
        for (std::size_t k = 0; k < features.span().convolutions().size(); ++k) {
            TrainableConv& c = features.span().convolutions()[k];
            require_close_gradient(
                check_gradient(c.weights.data(), c.weights.size(), analytic_w[k].data(), loss, 0.01, false, 16),
                c.name + " weights");
            require_close_gradient(check_gradient(c.bias.data(), c.bias.size(), analytic_b[k].data(), loss, 0.01, false),
                                   c.name + " bias");
        }
    }
}

TEST_CASE("fine-tuning: the training loss goes down, and through the span alone too") {
    const TinyGraph g;
    const kernels::KernelTable& forward = *available_kernel_tables().back();
    for (const char* layers : {"top", kLayerSet}) {
        CAPTURE(layers);
        TunedFeatures features(g.graph, "stem", layers, forward, fastest_backward());
        const SpatialSet training = synthetic_set(features, 24, 31);
        if (std::string(layers) != "top") standardise_by(features, training);
        const SoftmaxLayer head = random_head(features.feature_size(), 32);
        const std::vector<TrainableConv> initial = features.span().convolutions();
        const double before = mean_loss(features, training, head);
        FineTuneOptions options;
        options.steps = 60, options.batch_size = 8;
        options.head_learning_rate = 1e-2f, options.span_learning_rate = 1e-2f;
        {
            const FineTuneOutcome out = tune(features, training, SpatialSet{}, head, options);
            const double after = mean_loss(features, training, out.head);
            MESSAGE("cross-entropy " << before << " -> " << after);
            CHECK(after < 0.5 * before);
            CHECK(out.steps_run == 60);
            CHECK(out.best_step == -1);
        }
        features.span().convolutions() = initial;
        {  // the span alone: the head barely moves
            options.head_learning_rate = 1e-9f;
            const FineTuneOutcome out = tune(features, training, SpatialSet{}, head, options);
            const double after = mean_loss(features, training, out.head);
            MESSAGE("cross-entropy with the head held " << before << " -> " << after);
            CHECK(after < 0.9 * before);
            CHECK(out.convolutions[0].weights != initial[0].weights);
            // the span keeps the weights returned
            CHECK(features.span().convolutions()[0].weights == out.convolutions[0].weights);
        }
    }
}

TEST_CASE("fine-tuning: mirrored activations reverse the columns, and pool to the same values") {
    const ActivationShape shape{2, 3, 2};
    const std::vector<float> image = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    std::vector<float> mirrored(image.size());
    mirror_activations(image.data(), shape, mirrored.data());
    CHECK(mirrored == std::vector<float>{5, 6, 3, 4, 1, 2, 11, 12, 9, 10, 7, 8});
}

TEST_CASE("fine-tuning: the same bits on one thread and on three, with and without progress and mirrors") {
    const TinyGraph g;
    for (const bool mirror : {false, true}) {
        CAPTURE(mirror);
        const auto run = [&](int threads, bool with_progress) {
            set_thread_count(threads);
            TunedFeatures features(g.graph, "stem", kLayerSet, *available_kernel_tables().back(), fastest_backward());
            const SpatialSet training = synthetic_set(features, 20, 41);
            const SpatialSet validation = synthetic_set(features, 7, 42);
            standardise_by(features, training);
            FineTuneOptions options;
            options.steps = 25, options.batch_size = 6, options.eval_step_interval = 4;
            options.head_learning_rate = 1e-2f, options.span_learning_rate = 1e-2f;
            options.class_weighting = true, options.seed = 7, options.mirror = mirror;
            int reports = 0;
            const FineTuneOutcome out =
                tune(features, training, validation, random_head(features.feature_size(), 43), options,
                     with_progress ? ProgressCallback([&](const TrainProgress&) { ++reports; }) : ProgressCallback{});
            CHECK(reports == (with_progress ? 7 : 0));  // steps 0, 4, ..., 24
            return bits_of(out);
        };
        const int before = thread_count();
        const std::vector<float> one = run(1, false), three = run(3, true), three_quiet = run(3, false);
        set_thread_count(before);
        REQUIRE(one.size() == three.size());
        CHECK(std::memcmp(one.data(), three.data(), one.size() * sizeof(float)) == 0);
        CHECK(std::memcmp(one.data(), three_quiet.data(), one.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("fine-tuning: cross-validation fine-tunes every fold, the same for any thread count, and restores the span") {
    const TinyGraph g;
    FineTuneFolds folds;
    folds.k = 3;
    folds.head.steps = 200, folds.head.optimizer = Optimizer::adam, folds.head.learning_rate = 0.01f;
    FineTuneOptions options;
    options.steps = 12, options.batch_size = 6, options.mirror = true;
    options.head_learning_rate = 1e-2f, options.span_learning_rate = 1e-2f;
    for (std::size_t i = 0; i < 30; ++i) folds.fold.push_back(int((i * 7 / 3) % 3));
    const auto run = [&](int threads, const FineTuneOptions& o) {
        set_thread_count(threads);
        TunedFeatures features(g.graph, "stem", kLayerSet, *available_kernel_tables().back(), fastest_backward());
        const SpatialSet set = synthetic_set(features, 30, 51);
        const std::vector<TrainableConv> initial = features.span().convolutions();
        int folds_done = 0;
        const CrossValidationResult r =
            cross_validate_fine_tuning(features, set, folds, kClasses, o, [&](int) { ++folds_done; });
        CHECK(folds_done == 3);
        CHECK(features.span().convolutions()[0].weights == initial[0].weights);
        CHECK(features.standardization.empty());
        return r;
    };
    const int before = thread_count();
    const CrossValidationResult one = run(1, options), two = run(2, options);
    FineTuneOptions frozen_span = options;
    frozen_span.span_learning_rate = 0.0f;  // the head alone moves: the folds score otherwise
    const CrossValidationResult head_only = run(2, frozen_span);
    set_thread_count(before);
    REQUIRE(one.fold_accuracy.size() == 3);
    CHECK(one.fold_accuracy == two.fold_accuracy);
    CHECK(one.mean_accuracy > 1.0 / kClasses);  // learnt something on held-out images
    MESSAGE("folds " << one.fold_accuracy[0] << " " << one.fold_accuracy[1] << " " << one.fold_accuracy[2]
                     << "; the span held: " << head_only.mean_accuracy);
    folds.fold.assign(30, 0);
    CHECK_THROWS_WITH_AS(run(1, options), doctest::Contains("leaves fold 1 of 30 images empty"), Error);
    set_thread_count(before);
}

TEST_CASE("fine-tuning: sets of another shape, labels out of range and bad options are refused") {
    const TinyGraph g;
    TunedFeatures features(g.graph, "stem", "top", kernels::reference_kernels(), kernels::reference_backward_kernels());
    const SoftmaxLayer head = random_head(features.feature_size(), 5);
    const SpatialSet good = synthetic_set(features, 6, 6);
    const auto error = [&](const SpatialSet& training, const SoftmaxLayer& h, FineTuneOptions options) -> std::string {
        options.steps = 1, options.batch_size = 2;
        try {
            fine_tune(features, training, all_rows(training), {}, h, options);
        } catch (const Error& e) {
            return e.what();
        }
        return "";
    };
    CHECK(error(good, head, {}).empty());
    CHECK(error(SpatialSet{}, head, {}).find("training set is empty") != std::string::npos);
    SpatialSet wrong = good;
    wrong.shape = ActivationShape{5, 5, 4};
    wrong.activations.resize(6 * 100);
    CHECK(error(wrong, head, {}).find("the span reads 5x6x4") != std::string::npos);
    SpatialSet bad_label = good;
    bad_label.labels[2] = kClasses;
    CHECK(error(bad_label, head, {}).find("label 3") != std::string::npos);
    SpatialSet frozen = good;
    frozen.frozen_size = 2, frozen.frozen.assign(12, 0.0f);
    CHECK(error(frozen, head, {}).find("2 frozen values per image") != std::string::npos);
    CHECK(error(good, random_head(4, 5), {}).find("the span gives 5") != std::string::npos);
    FineTuneOptions zero_rate;
    zero_rate.head_learning_rate = 0.0f;
    CHECK(error(good, head, zero_rate).find("head learning rate") != std::string::npos);
}
