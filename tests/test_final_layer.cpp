// The softmax head: analytic gradients against finite differences, learning separable data,
// determinism under a seed, progress reports and evaluation.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "error.hpp"
#include "classify/classifier_model.hpp"
#include "parallel/thread_pool.hpp"
#include "train/final_layer.hpp"
#include "train/sampling.hpp"

using namespace tinception;

namespace {

FeatureSet random_features(int n, int feature_size, int n_classes, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    FeatureSet d;
    d.feature_size = feature_size;
    for (int i = 0; i < n * feature_size; ++i) d.features.push_back(float(standard_normal(rng)));
    for (int i = 0; i < n; ++i) d.labels.push_back(int(uniform_index(rng, std::uint64_t(n_classes))));
    return d;
}

// n_classes Gaussian blobs with well separated means, unit noise.
FeatureSet blobs(int n, int feature_size, int n_classes, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::mt19937_64 centre_rng(7);
    std::vector<float> centres(std::size_t(n_classes * feature_size));
    for (float& c : centres) c = float(4.0 * standard_normal(centre_rng));
    FeatureSet d;
    d.feature_size = feature_size;
    for (int i = 0; i < n; ++i) {
        const int label = int(uniform_index(rng, std::uint64_t(n_classes)));
        for (int f = 0; f < feature_size; ++f)
            d.features.push_back(centres[std::size_t(label * feature_size + f)] + float(standard_normal(rng)));
        d.labels.push_back(label);
    }
    return d;
}

std::vector<std::size_t> all_rows(const FeatureSet& d) {
    std::vector<std::size_t> idx(d.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    return idx;
}

double relative_error(double a, double b) { return std::fabs(a - b) / std::max(std::fabs(a) + std::fabs(b), 1e-4); }

}  // namespace

TEST_CASE("uniform_index stays in range and covers it") {
    std::mt19937_64 rng(3);
    std::vector<int> seen(7, 0);
    for (int i = 0; i < 7000; ++i) {
        const auto v = uniform_index(rng, 7);
        REQUIRE(v < 7);
        ++seen[v];
    }
    for (int count : seen) CHECK(count > 800);
}

TEST_CASE("softmax is stable for large logits and sums to one") {
    SoftmaxLayer layer;
    layer.n_classes = 3;
    layer.feature_size = 1;
    layer.weights = {1000.0f, -1000.0f, 999.0f};
    layer.bias = {0, 0, 0};
    const float x = 1.0f;
    float p[3];
    softmax_forward(layer, &x, 1, p);
    CHECK(std::isfinite(p[0]));
    CHECK(p[0] + p[1] + p[2] == doctest::Approx(1.0));
    CHECK(p[0] == doctest::Approx(1.0 / (1.0 + std::exp(-1.0))));
    CHECK(p[1] == 0.0f);
}

TEST_CASE("analytic gradients match central finite differences") {
    // Feature sizes below, at and past the products' 8 interleaved partial sums.
    for (const int feature_size : {3, 9, 21})
    for (const bool weighted : {false, true}) {
        for (const float l2 : {0.0f, 0.05f}) {
            CAPTURE(feature_size);
            CAPTURE(weighted);
            CAPTURE(l2);
            const int n_classes = 4;
            const FeatureSet data = random_features(25, feature_size, n_classes, 11);
            TrainOptions init;
            init.init_stddev = 0.5f;
            init.seed = 5;
            SoftmaxLayer layer = init_softmax_layer(n_classes, feature_size, init);
            for (std::size_t c = 0; c < layer.bias.size(); ++c) layer.bias[c] = 0.1f * float(c) - 0.15f;
            const std::vector<float> cw = weighted ? balanced_class_weights(data, n_classes) : std::vector<float>{};
            const auto rows = all_rows(data);
            std::vector<float> gw, gb;
            softmax_loss(layer, data, rows, cw, l2, &gw, &gb);
            REQUIRE(gw.size() == layer.weights.size());
            REQUIRE(gb.size() == layer.bias.size());
            const float h = 1e-3f;  // O(h^2) truncation well under the tolerance even for gradients near 1e-4
            auto numeric = [&](float& param) {
                const float saved = param;
                param = saved + h;
                const float up = param;
                const double loss_up = softmax_loss(layer, data, rows, cw, l2, nullptr, nullptr);
                param = saved - h;
                const float down = param;
                const double loss_down = softmax_loss(layer, data, rows, cw, l2, nullptr, nullptr);
                param = saved;
                return (loss_up - loss_down) / double(up - down);
            };
            for (std::size_t i = 0; i < layer.weights.size(); ++i) {
                CAPTURE(i);
                const double fd = numeric(layer.weights[i]);
                CAPTURE(gw[i]);
                CAPTURE(fd);
                CHECK(relative_error(gw[i], fd) < 1e-3);
            }
            for (std::size_t c = 0; c < layer.bias.size(); ++c) {
                CAPTURE(c);
                CHECK(relative_error(gb[c], numeric(layer.bias[c])) < 1e-3);
            }
        }
    }
}

TEST_CASE("training on separable data reaches over 95% test accuracy") {
    const FeatureSet train = blobs(600, 32, 4, 1), validation = blobs(100, 32, 4, 2), test = blobs(400, 32, 4, 3);
    for (const Optimizer optimizer : {Optimizer::sgd, Optimizer::adam}) {
        CAPTURE(int(optimizer));
        TrainOptions options;
        options.steps = 300;
        int reports = 0;
        TrainProgress last;
        const SoftmaxLayer layer =
            train_softmax_layer(train, validation, 4, options, [&](const TrainProgress& p) {
                ++reports;
                last = p;
                CHECK(p.train_accuracy >= 0.0);
                CHECK(p.train_accuracy <= 1.0);
                CHECK(std::isfinite(p.cross_entropy));
            });
        CHECK(reports == 31);  // steps 0, 10, ..., 290 and the last, 299
        CHECK(last.step == 299);
        CHECK(last.validation_accuracy > 0.95);
        const Evaluation e = evaluate(layer, test);
        CHECK(e.accuracy > 0.95);
        int total = 0, diagonal = 0;
        for (std::size_t t = 0; t < e.confusion.size(); ++t)
            for (std::size_t p = 0; p < e.confusion[t].size(); ++p) {
                total += e.confusion[t][p];
                if (t == p) diagonal += e.confusion[t][p];
            }
        CHECK(total == 400);
        CHECK(double(diagonal) / total == doctest::Approx(e.accuracy));
    }
}

TEST_CASE("the same seed gives bit-identical weights; another seed does not") {
    const FeatureSet train = blobs(300, 16, 3, 4);
    const FeatureSet no_validation;
    auto model_bytes = [](const SoftmaxLayer& head) {
        ClassifierModel m;
        m.labels = {"a", "b", "c"};
        m.feature_layer = "pool_3";
        m.feature_size = head.feature_size;
        m.head = head;
        return serialize_classifier_model(m);
    };
    for (const Optimizer optimizer : {Optimizer::sgd, Optimizer::adam}) {
        TrainOptions options;
        options.steps = 50;
        options.optimizer = optimizer;
        options.class_weighting = true;
        options.l2 = 0.001f;
        const SoftmaxLayer a = train_softmax_layer(train, no_validation, 3, options);
        const SoftmaxLayer b = train_softmax_layer(train, no_validation, 3, options);
        CHECK(a.weights == b.weights);
        CHECK(a.bias == b.bias);
        CHECK(model_bytes(a) == model_bytes(b));
        options.seed = 2;
        const SoftmaxLayer c = train_softmax_layer(train, no_validation, 3, options);
        CHECK(a.weights != c.weights);
        CHECK(model_bytes(a) != model_bytes(c));
    }
}

TEST_CASE("the batch's rows are shared among threads, yet any thread count trains the same weights") {
    const FeatureSet train = blobs(300, 21, 3, 8);
    const FeatureSet validation = blobs(60, 21, 3, 9);
    TrainOptions options;
    options.steps = 40;
    options.batch_size = 100;  // four tasks of rows a step
    options.eval_step_interval = 5;
    std::vector<SoftmaxLayer> heads;
    const int threads_before = thread_count();
    for (const int threads : {1, 2, 3}) {
        set_thread_count(threads);
        heads.push_back(train_softmax_layer(train, validation, 3, options));
    }
    set_thread_count(threads_before);
    for (std::size_t i = 1; i < heads.size(); ++i) {
        CAPTURE(i);
        CHECK(heads[i].weights == heads[0].weights);
        CHECK(heads[i].bias == heads[0].bias);
    }
}

TEST_CASE("progress reports do not change the trained weights; without checkpoints neither does their interval") {
    const FeatureSet train = blobs(300, 16, 3, 5);
    const FeatureSet validation = blobs(60, 16, 3, 6);
    for (const Optimizer optimizer : {Optimizer::sgd, Optimizer::adam}) {
        CAPTURE(int(optimizer));
        TrainOptions options;
        options.steps = 60;
        options.batch_size = 32;
        options.validation_batch_size = 16;
        options.optimizer = optimizer;
        const SoftmaxLayer silent = train_softmax_layer(train, validation, 3, options);
        int reports = 0;
        const ProgressCallback count = [&](const TrainProgress&) { ++reports; };
        const SoftmaxLayer reported = train_softmax_layer(train, validation, 3, options, count);
        CHECK(reports == 7);  // steps 0, 10, ..., 50 and the last
        CHECK(silent.weights == reported.weights);
        CHECK(silent.bias == reported.bias);
        options.keep_best = false;
        const SoftmaxLayer last = train_softmax_layer(train, validation, 3, options);
        options.eval_step_interval = 3;
        const SoftmaxLayer reported_often = train_softmax_layer(train, validation, 3, options, count);
        CHECK(reports == 7 + 21);
        CHECK(last.weights == reported_often.weights);
        CHECK(last.bias == reported_often.bias);
    }
}

// A weak signal (feature `label` is shifted by 1) in 40 noise features and only 60 training
// rows: the head learns the signal, then memorises the noise, so the validation
// cross-entropy falls for a while and then rises.
FeatureSet weak_signal(int n, std::uint64_t seed) {
    FeatureSet d = random_features(n, 40, 3, seed);
    for (std::size_t i = 0; i < d.size(); ++i) d.features[i * 40 + std::size_t(d.labels[i])] += 1.0f;
    return d;
}

struct OverfittingRun {
    FeatureSet train = weak_signal(60, 11);
    FeatureSet validation = weak_signal(90, 12);
    TrainOptions options;
    OverfittingRun() {
        options.steps = 400;
        options.batch_size = 0;
        options.optimizer = Optimizer::adam;
        options.learning_rate = 0.01f;
        options.validation_batch_size = 0;
    }
};

TEST_CASE("the kept weights are those of the evaluation with the lowest validation cross-entropy") {
    OverfittingRun run;
    std::vector<TrainProgress> history;
    const TrainOutcome kept = train_softmax(run.train, run.validation, 3, run.options,
                                            [&](const TrainProgress& p) { history.push_back(p); });
    REQUIRE(history.size() == 41);
    std::size_t lowest = 0;
    for (std::size_t i = 1; i < history.size(); ++i)
        if (history[i].validation_cross_entropy < history[lowest].validation_cross_entropy) lowest = i;
    CHECK(lowest > 0);
    CHECK(lowest + 1 < history.size());  // the run overfits: its last weights are not its best
    CHECK(kept.best_step == history[lowest].step);
    CHECK(kept.steps_run == 400);
    CHECK(kept.best_validation_cross_entropy == history[lowest].validation_cross_entropy);
    CHECK(evaluate(kept.layer, run.validation).cross_entropy ==
          doctest::Approx(history[lowest].validation_cross_entropy).epsilon(1e-6));

    run.options.keep_best = false;
    const TrainOutcome last = train_softmax(run.train, run.validation, 3, run.options);
    CHECK(last.best_step == kept.best_step);
    CHECK(evaluate(last.layer, run.validation).cross_entropy ==
          doctest::Approx(history.back().validation_cross_entropy).epsilon(1e-6));
    CHECK(evaluate(last.layer, run.validation).cross_entropy > kept.best_validation_cross_entropy);

    // Without a validation set there is nothing to choose by: the last weights.
    run.options.keep_best = true;
    const TrainOutcome blind = train_softmax(run.train, FeatureSet{}, 3, run.options);
    CHECK(blind.best_step == -1);
    CHECK(blind.layer.weights == last.layer.weights);
}

TEST_CASE("patience stops training that many evaluations after the best one") {
    OverfittingRun run;
    const TrainOutcome full = train_softmax(run.train, run.validation, 3, run.options);
    run.options.patience = 3;
    int reports = 0;
    const TrainOutcome stopped =
        train_softmax(run.train, run.validation, 3, run.options, [&](const TrainProgress&) { ++reports; });
    // The first best the run meets is final when nothing lower follows within 3 evaluations.
    CHECK(stopped.best_step <= full.best_step);
    CHECK(stopped.steps_run == stopped.best_step + 3 * run.options.eval_step_interval + 1);
    CHECK(reports == stopped.best_step / run.options.eval_step_interval + 4);
    // Stopping early keeps what a run of exactly that length keeps.
    run.options.patience = 0;
    run.options.steps = stopped.steps_run;
    const TrainOutcome as_long = train_softmax(run.train, run.validation, 3, run.options);
    CHECK(as_long.best_step == stopped.best_step);
    CHECK(as_long.layer.weights == stopped.layer.weights);
    CHECK(as_long.layer.bias == stopped.layer.bias);

    run.options.patience = -1;
    CHECK_THROWS_AS(train_softmax(run.train, run.validation, 3, run.options), Error);
}

TEST_CASE("zero init starts at zero and bad inputs are refused") {
    TrainOptions options;
    options.init = WeightInit::zeros;
    const SoftmaxLayer z = init_softmax_layer(3, 5, options);
    for (float w : z.weights) CHECK(w == 0.0f);
    FeatureSet empty;
    empty.feature_size = 5;
    CHECK_THROWS_AS(train_softmax_layer(empty, empty, 3, options), Error);
    FeatureSet bad = random_features(10, 5, 3, 1);
    bad.labels[0] = 7;
    CHECK_THROWS_AS(train_softmax_layer(bad, empty, 3, options), Error);
}

TEST_CASE("evaluation with mirrors averages each row's probabilities with its mirror's") {
    const FeatureSet data = blobs(40, 6, 3, 21), mirrored = [] {
        FeatureSet m = blobs(40, 6, 3, 21);
        for (float& v : m.features) v = -0.5f * v;
        return m;
    }();
    TrainOptions options;
    options.steps = 50;
    const SoftmaxLayer layer = train_softmax_layer(data, FeatureSet{}, 3, options);
    const Evaluation e = evaluate(layer, data, &mirrored);
    double loss = 0;
    int correct = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
        float p[3], q[3];
        softmax_forward(layer, data.row(i), 1, p);
        softmax_forward(layer, mirrored.row(i), 1, q);
        int best = 0;
        for (int c = 1; c < 3; ++c)
            if (p[c] + q[c] > p[best] + q[best]) best = c;
        CHECK(e.predictions[i] == best);
        CHECK(e.top_probability[i] == doctest::Approx(0.5 * (p[best] + q[best])).epsilon(1e-5));
        loss -= std::log(0.5 * (double(p[data.labels[i]]) + double(q[data.labels[i]])));
        correct += best == data.labels[i];
    }
    CHECK(e.cross_entropy == doctest::Approx(loss / double(data.size())).epsilon(1e-5));
    CHECK(e.accuracy == doctest::Approx(double(correct) / double(data.size())));
    FeatureSet short_mirror = mirrored;
    short_mirror.labels.pop_back();
    short_mirror.features.resize(short_mirror.features.size() - 6);
    CHECK_THROWS_AS(evaluate(layer, data, &short_mirror), Error);
}
