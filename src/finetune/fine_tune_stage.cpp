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

// `trunk`'s output for every image, in order.
SpatialSet frozen_activations(Network& trunk, const Preprocessing& p, const ImageLimits& decode,
                              const LabelledImages& images, const std::function<void(std::size_t)>& done) {
    SpatialSet set;
    set.shape = trunk.output_shape();
    set.labels = images.labels;
    set.activations.resize(images.paths.size() * set.floats_per_image());
    const std::size_t image_floats = std::size_t(p.size) * p.size * 3;
    std::vector<float> input(image_floats * kNetworkBatch);
    for (std::size_t first = 0; first < images.paths.size(); first += kNetworkBatch) {
        const std::size_t n = std::min(kNetworkBatch, images.paths.size() - first);
        for (std::size_t i = 0; i < n; ++i)
            preprocess(load_image(images.paths[first + i], decode), p, input.data() + i * image_floats);
        trunk.extract_activations(input.data(), int(n), set.activations.data() + first * set.floats_per_image());
        if (done) done(n);
    }
    return set;
}

}  // namespace

void check_fine_tune_span(const WeightFile& weights, const std::string& from, const std::string& to) {
    SpanBackprop(weights.graph(), from, to, kernels::reference_kernels(), kernels::reference_backward_kernels());
}

FineTuneStageResult run_fine_tune_stage(const WeightFile& weights, const std::string& from, const std::string& to,
                                        const ImageLimits& decode, const LabelledImages& training,
                                        const LabelledImages& validation, const LabelledImages& testing,
                                        const SoftmaxLayer& head, const FineTuneOptions& options,
                                        const FineTuneStageEvents& events) {
    const kernels::BackwardKernelTable* tables[3];
    const int table_count = kernels::available_backward_tables(tables);
    SpanBackprop span(weights.graph(), from, to, active_kernels(), *tables[table_count - 1]);
    FineTuneStageResult result;
    result.tuned.from = from;

    const auto activations_start = std::chrono::steady_clock::now();
    Network trunk(weights, from, active_kernels());
    const Preprocessing p = preprocessing_of(weights);
    const std::size_t total = training.paths.size() + validation.paths.size() + testing.paths.size();
    if (events.started) events.started("activations of " + from, total);
    std::size_t done = 0;
    const auto advance = [&](std::size_t n) {
        done += n;
        if (events.progress) events.progress(done);
    };
    const SpatialSet training_set = frozen_activations(trunk, p, decode, training, advance);
    const SpatialSet validation_set = frozen_activations(trunk, p, decode, validation, advance);
    const SpatialSet testing_set = frozen_activations(trunk, p, decode, testing, advance);
    if (events.finished) events.finished();
    result.activation_bytes =
        (training_set.activations.size() + validation_set.activations.size() + testing_set.activations.size()) *
        sizeof(float);
    result.activation_seconds = seconds_since(activations_start);

    const auto tuning_start = std::chrono::steady_clock::now();
    const std::size_t images_per_step = std::size_t(options.batch_size);
    if (events.started) events.started("fine-tuning", std::size_t(options.steps) * images_per_step);
    const ProgressCallback report = [&](const TrainProgress& evaluated) {
        if (events.progress) events.progress(std::size_t(evaluated.step + 1) * images_per_step);
        if (events.evaluation) events.evaluation(evaluated);
    };
    FineTuneOutcome out = fine_tune(span, *tables[table_count - 1], training_set, validation_set, head, options, report);
    if (events.progress) events.progress(std::size_t(out.steps_run) * images_per_step);
    if (events.finished) events.finished();
    result.tuning_seconds = seconds_since(tuning_start);
    result.head = std::move(out.head);
    result.tuned.convolutions = std::move(out.convolutions);
    result.steps_run = out.steps_run;
    result.best_step = out.best_step;
    result.testing = pooled_features(span, testing_set, options.eval_batch_size);
    return result;
}

}  // namespace tinception
