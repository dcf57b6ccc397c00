// The fine-tuning stage: frozen activations in batches of kNetworkBatch, then fine_tune.
#include "finetune/fine_tune_stage.hpp"

#include <algorithm>
#include <chrono>

#include "error.hpp"
#include "image/image.hpp"
#include "kernel_dispatch.hpp"
#include "model/feature_extractor.hpp"
#include "model/image_batches.hpp"
#include "model/network.hpp"
#include "weights/weight_file.hpp"

namespace tinception {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// `trunk`'s output (and its pooled frozen layers) for every image of the splits, in order.
SpatialSet frozen_activations(Network& trunk, int frozen_size, const Preprocessing& p, const ImageLimits& decode,
                              const std::vector<const LabelledImages*>& splits,
                              const std::function<void(std::size_t)>& done) {
    SpatialSet set;
    set.shape = trunk.output_shape();
    set.frozen_size = frozen_size;
    std::vector<const std::string*> paths;
    for (const LabelledImages* split : splits) {
        for (const std::string& path : split->paths) paths.push_back(&path);
        set.labels.insert(set.labels.end(), split->labels.begin(), split->labels.end());
    }
    set.activations.resize(paths.size() * set.floats_per_image());
    set.frozen.resize(paths.size() * std::size_t(frozen_size));
    const std::size_t image_floats = std::size_t(p.size) * p.size * 3;
    std::vector<float> input(image_floats * kNetworkBatch);
    for (std::size_t first = 0; first < paths.size(); first += kNetworkBatch) {
        const std::size_t n = std::min(kNetworkBatch, paths.size() - first);
        for (std::size_t i = 0; i < n; ++i)
            preprocess(load_image(*paths[first + i], decode), p, input.data() + i * image_floats);
        trunk.extract_activations(input.data(), int(n), set.activations.data() + first * set.floats_per_image(),
                                  frozen_size > 0 ? set.frozen.data() + first * std::size_t(frozen_size) : nullptr);
        if (done) done(first + n);
    }
    return set;
}

std::vector<std::size_t> row_range(std::size_t first, std::size_t count) {
    std::vector<std::size_t> rows(count);
    for (std::size_t i = 0; i < count; ++i) rows[i] = first + i;
    return rows;
}

}  // namespace

void check_fine_tune_span(const WeightFile& weights, const std::string& from, const std::string& to) {
    TunedFeatures(weights.graph(), from, to, kernels::reference_kernels(), kernels::reference_backward_kernels());
}

FineTuneStageResult run_fine_tune_stage(const WeightFile& weights, const std::string& from, const std::string& to,
                                        const ImageLimits& decode, const LabelledImages& training,
                                        const LabelledImages& validation, const LabelledImages& testing,
                                        const FeatureStandardization& standardization, const SoftmaxLayer& head,
                                        const FineTuneOptions& options, const FineTuneFolds& folds,
                                        const FineTuneStageEvents& events) {
    weights.make_values_readable();  // checked and expanded: the tuned layers start from their values
    TunedFeatures features(weights.graph(), from, to, active_kernels(), active_backward_kernels());
    FineTuneStageResult result;
    result.tuned.from = from;

    const auto activations_start = std::chrono::steady_clock::now();
    Network trunk(weights, from, active_kernels());
    if (!features.frozen_layers().empty()) trunk.pool_layers(features.frozen_layers());
    const std::size_t total = training.paths.size() + validation.paths.size() + testing.paths.size();
    if (events.started) events.started("activations of " + from, total);
    const SpatialSet set = frozen_activations(trunk, features.frozen_size(), preprocessing_of(weights), decode,
                                              {&training, &validation, &testing}, events.progress);
    if (events.finished) events.finished();
    result.activation_bytes = (set.activations.size() + set.frozen.size()) * sizeof(float);
    result.activation_seconds = seconds_since(activations_start);
    const std::vector<std::size_t> training_rows = row_range(0, training.paths.size());
    const std::vector<std::size_t> validation_rows = row_range(training.paths.size(), validation.paths.size());
    const std::vector<std::size_t> testing_rows =
        row_range(training.paths.size() + validation.paths.size(), testing.paths.size());

    const std::size_t images_per_step = std::size_t(options.batch_size);
    if (folds.k > 0) {
        const auto start = std::chrono::steady_clock::now();
        const std::size_t per_fold = std::size_t(options.steps) * images_per_step;
        if (events.started) events.started("cross-validating fine-tuning", per_fold * std::size_t(folds.k));
        result.cross_validation = cross_validate_fine_tuning(features, set, folds, head.n_classes, options, [&](int f) {
            if (events.progress) events.progress(per_fold * std::size_t(f + 1));
        });
        if (events.finished) events.finished();
        result.cross_validation_seconds = seconds_since(start);
    }

    const auto tuning_start = std::chrono::steady_clock::now();
    if (events.started) events.started("fine-tuning", std::size_t(options.steps) * images_per_step);
    const ProgressCallback report = [&](const TrainProgress& evaluated) {
        if (events.progress) events.progress(std::size_t(evaluated.step + 1) * images_per_step);
        if (events.evaluation) events.evaluation(evaluated);
    };
    features.standardization = standardization;
    FineTuneOutcome out = fine_tune(features, set, training_rows, validation_rows, head, options, report);
    if (events.progress) events.progress(std::size_t(out.steps_run) * images_per_step);
    if (events.finished) events.finished();
    result.tuning_seconds = seconds_since(tuning_start);
    result.head = std::move(out.head);
    result.tuned.convolutions = std::move(out.convolutions);
    result.steps_run = out.steps_run;
    result.best_step = out.best_step;
    result.testing = pooled_features(features, set, testing_rows, options.eval_batch_size);
    return result;
}

}  // namespace tinception
