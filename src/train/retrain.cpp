// The retraining pipeline; each stage lives in its own file, this one only joins them.
#include "train/retrain.hpp"

#include <sys/stat.h>

#include <chrono>

#include "bf16/conv2d_bf16.hpp"
#include "error.hpp"
#include "file_io.hpp"
#include "finetune/fine_tune_stage.hpp"
#include "kernel_dispatch.hpp"
#include "model/feature_extractor.hpp"
#include "model/network.hpp"
#include "quant/calibration_set.hpp"
#include "train/bottleneck_cache.hpp"
#include "train/bottlenecks.hpp"
#include "train/dataset_checks.hpp"
#include "train/metrics_json.hpp"
#include "train/retrain_report.hpp"
#include "train/split_features.hpp"
#include "weights/weight_file.hpp"
#include "image/image.hpp"

namespace tinception {
namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Appends options.distortions.copies distorted copies of every training image (already
// known to decode) to `training`, labelled like the row they come from. Returns how many.
std::size_t add_distorted_copies(FeatureExtractor& extractor, const std::vector<std::string>& paths,
                                 const RetrainOptions& options, const RetrainEvents& events, FeatureSet& training) {
    const int copies = options.distortions.copies;
    if (copies <= 0) return 0;
    const Preprocessing& p = extractor.preprocessing();
    const std::size_t image_floats = std::size_t(p.size) * p.size * 3;
    const std::size_t total = paths.size() * std::size_t(copies);
    std::mt19937_64 rng(options.train.seed);
    if (events.features_started) events.features_started("distorted copies", total);
    std::vector<float> inputs(image_floats * std::size_t(copies));
    for (std::size_t i = 0; i < paths.size(); ++i) {
        const ImageRgb8 image = load_image(paths[i], decode_limits(p, options.decode));
        for (int c = 0; c < copies; ++c)
            distort_and_preprocess(image, options.distortions, p, rng, inputs.data() + std::size_t(c) * image_floats);
        const std::vector<float> features = extractor.extract_preprocessed(inputs.data(), copies);
        training.features.insert(training.features.end(), features.begin(), features.end());
        training.labels.insert(training.labels.end(), std::size_t(copies), training.labels[i]);
        if (events.features_progress) events.features_progress((i + 1) * std::size_t(copies));
    }
    if (events.features_finished) events.features_finished();
    return total;
}

// The images of a split as the features were computed from them, in the same order.
LabelledImages split_images(const Dataset& data, const SplitFeatureRows& rows) {
    LabelledImages images;
    for (const std::string& rel : rows.relative_paths) images.paths.push_back(data.full_path(rel));
    // distorted copies come after the images' own rows
    images.labels.assign(rows.set.labels.begin(), rows.set.labels.begin() + long(images.paths.size()));
    return images;
}

// Fine-tunes the layers after options.fine_tune_from with the head just trained (distorted
// copies are left out: their activations are not kept), cross-validating the same when
// asked; records its figures in `result`.
FineTuneStageResult fine_tune_after_head(const RetrainOptions& options, const RetrainEvents& events,
                                         const Dataset& data, const SplitFeatures& features,
                                         const FeatureExtractor& extractor,
                                         const FeatureStandardization& standardization, const SoftmaxLayer& head,
                                         RetrainResult& result) {
    FineTuneStageEvents stage;
    stage.started = events.features_started;
    stage.progress = events.features_progress;
    stage.finished = events.features_finished;
    stage.evaluation = [&](const TrainProgress& p) {
        result.history.push_back(p);
        if (events.fine_tune_progress) events.fine_tune_progress(p);
    };
    FineTuneFolds folds;
    if (options.cross_validate_folds > 0) {
        folds.k = options.cross_validate_folds;
        folds.head = options.train;
        for (const SplitFeatureRows* split : {&features.training, &features.validation, &features.testing})
            for (const std::string& rel : split->relative_paths)
                folds.fold.push_back(fold_of(rel, folds.k, options.fold_seed));
    }
    FineTuneOptions tuning = options.fine_tune;
    tuning.mirror = options.train_on_mirrored;
    FineTuneStageResult f = run_fine_tune_stage(
        extractor.weights(), options.fine_tune_from, extractor.layer(), decode_limits(extractor.preprocessing(), options.decode),
        split_images(data, features.training), split_images(data, features.validation), split_images(data, features.testing),
        standardization, head, tuning, folds, stage);
    result.fine_tune_steps_run = f.steps_run;
    result.fine_tune_best_step = f.best_step;
    result.fine_tune_seconds = f.activation_seconds + f.tuning_seconds + f.cross_validation_seconds;
    result.fine_tune_activation_bytes = f.activation_bytes;
    result.cross_validation = f.cross_validation;
    return f;
}

}  // namespace

void check_retrain_precision(const RetrainOptions& options) {
    const CalibrationOptions& c = options.calibration;
    if ((c.int8 || c.bf16) && !options.fine_tune_from.empty())
        throw Error(std::string("--precision ") + (c.int8 ? "int8" : "bf16") +
                    " does not take --fine-tune-from: fine-tuned layers run in fp32 only");
    if (c.bf16 && !kernels::avx512_bf16_kernels())
        throw Error("--precision bf16 needs a CPU with AVX-512 BF16, which this one lacks");
}

RetrainResult retrain(const RetrainOptions& options, const RetrainEvents& events) {
    if (options.model_path.empty()) throw Error("retrain needs an output model path");
    check_retrain_precision(options);
    for (const std::string* out : {&options.model_path, &options.labels_path, &options.report_path,
                                   &options.metrics_path}) {
        if (out->empty()) continue;
        if (!options.overwrite && exists(*out))
            throw Error(*out + " already exists; choose another name or pass --force to replace it");
        check_can_create(*out);
    }

    RetrainResult result;
    result.dataset = scan_dataset(options.data_dir, options.split);
    const Dataset& data = result.dataset;
    result.advice = dataset_advice(data, options.train.class_weighting);
    if (events.warning) {
        for (const std::string& w : data.warnings) events.warning(w);
        for (const std::string& w : result.advice) events.warning(w);
    }
    result.skipped = data.warnings;
    result.split_counts.assign(data.labels.size(), SplitCounts{});
    if (options.cross_validate_folds > 0) {
        std::vector<std::string> listed;
        for (const CategoryImages& cat : data.categories)
            for (const auto* list : {&cat.training, &cat.validation, &cat.testing})
                listed.insert(listed.end(), list->begin(), list->end());
        check_folds(listed, options.cross_validate_folds, options.fold_seed);
    }

    // The weights' data are checked when a network first needs them: a run whose bottlenecks
    // all come from the cache (keyed by the weights' checksum) reads none of them.
    // The fp32 packed weights, made on first use by calibration or the extractor's network.
    const auto weights = std::make_shared<const WeightFile>(WeightFile::open(options.weights_path, DataCheck::deferred));
    const auto fp32_packed = [weights, choice = options.packed_cache,
                              packed = std::make_shared<std::shared_ptr<const PackedWeights>>()] {
        if (!*packed) *packed = PackedWeights::make(*weights, active_kernels(), choice);
        return *packed;
    };
    FeatureExtractor extractor(weights, PackedWeightsSource{&active_kernels(), fp32_packed}, options.layer, TunedLayers{});
    if (!options.fine_tune_from.empty() && options.augmentation != TestTimeAugmentation::none)
        throw Error("--fine-tune-from does not take --tta flip");
    if (!options.fine_tune_from.empty()) check_fine_tune_span(extractor.weights(), options.fine_tune_from, extractor.layer());
    if (options.calibration.int8) {
        std::vector<std::string> training_images;
        for (const CategoryImages& cat : data.categories)
            for (const std::string& rel : cat.training) training_images.push_back(data.full_path(rel));
        const CalibrationOptions& c = options.calibration;
        const auto calibration_start = std::chrono::steady_clock::now();
        const CalibrationSet set =
            c.folder.empty() ? load_calibration_images(training_images, extractor.preprocessing(), c.max_images)
                             : load_calibration_set(c.folder, extractor.preprocessing(), c.max_images);
        extractor.use_int8(calibrate_ranges(fp32_packed(), extractor.network_end(), set.input.data(),
                                            int(set.paths.size()), c.rule),
                           options.packed_cache);
        result.calibration_images = set.paths.size();
        result.calibration_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - calibration_start).count();
    }
    if (options.calibration.bf16) extractor.use_bf16(options.packed_cache);
    std::unique_ptr<BottleneckCache> cache;
    if (!options.cache_dir.empty()) cache = std::make_unique<BottleneckCache>(options.cache_dir);

    if (options.require_cached && !cache)
        throw Error("reading every bottleneck from the cache needs a cache folder (drop --no-cache)");

    const auto feature_start = std::chrono::steady_clock::now();
    SplitFeatureEvents feature_events;
    feature_events.warning = [&](const std::string& message) {
        result.skipped.push_back(message);
        if (events.warning) events.warning(message);
    };
    feature_events.started = [&](std::size_t total) {
        if (events.features_started) events.features_started("bottlenecks", total);
    };
    feature_events.progress = events.features_progress;
    const bool test_time_flip = options.augmentation == TestTimeAugmentation::flip;
    SplitFeatures features =
        load_split_features(extractor, cache.get(), data,
                            options.require_cached ? BottleneckMode::cached_only : BottleneckMode::compute_misses,
                            feature_events, decode_limits(extractor.preprocessing(), options.decode),
                            options.train_on_mirrored || test_time_flip);
    if (events.features_finished) events.features_finished();
    result.feature_seconds = seconds_since(feature_start);
    result.features_computed = features.computed;
    result.features_from_cache = features.from_cache;
    result.images_skipped = features.skipped;

    std::vector<std::size_t> usable(data.labels.size(), 0);
    for (const int label : features.training.set.labels) ++result.split_counts[std::size_t(label)].training;
    for (const int label : features.validation.set.labels) ++result.split_counts[std::size_t(label)].validation;
    for (const int label : features.testing.set.labels) ++result.split_counts[std::size_t(label)].testing;
    for (std::size_t c = 0; c < usable.size(); ++c) {
        const SplitCounts& counts = result.split_counts[c];
        usable[c] = counts.training + counts.validation + counts.testing;
    }
    for (std::size_t c = 0; c < usable.size(); ++c)
        if (usable[c] < minimum_images_per_category(options.split))
            throw Error(too_few_images_message(data.full_path(data.labels[c]), data.labels[c], usable[c], options.split));
    // Cross-validation standardises each fold by its own training rows, so it takes them raw;
    // fine-tuning's runs on the frozen layer's activations instead.
    const bool tune = !options.fine_tune_from.empty();
    const SplitFeatureRows all = options.cross_validate_folds > 0 && !tune ? all_split_rows(features, data.labels.size())
                                                                           : SplitFeatureRows{};
    FeatureSet& training = features.training.set;
    FeatureSet& validation = features.validation.set;
    FeatureSet& testing = features.testing.set;
    if (options.train_on_mirrored) {
        const FeatureSet& mirrors = features.training.mirrored;
        training.features.insert(training.features.end(), mirrors.features.begin(), mirrors.features.end());
        training.labels.insert(training.labels.end(), mirrors.labels.begin(), mirrors.labels.end());
        result.mirrored_copies = mirrors.size();
    }
    if (options.distortions.any()) {
        std::vector<std::string> training_full;
        for (const std::string& rel : features.training.relative_paths) training_full.push_back(data.full_path(rel));
        result.distorted_copies = add_distorted_copies(extractor, training_full, options, events, training);
    }
    // Fine-tuning keeps these statistics: a fixed scaling between its pooled layers and the head.
    FeatureStandardization standardization;
    if (options.train.standardize) {
        standardization = fit_standardization(training.features.data(), training.size(), training.feature_size);
        for (FeatureSet* set : {&training, &validation, &testing, &features.validation.mirrored,
                                &features.testing.mirrored})
            standardization.apply(set->features.data(), set->size());
    }
    // Images, as the split line and the report count them: mirrors and distortions are extra rows.
    result.training_count = training.size() - result.mirrored_copies - result.distorted_copies;
    result.validation_count = validation.size();
    result.testing_count = testing.size();
    if (events.split_ready) events.split_ready(result);

    const auto train_start = std::chrono::steady_clock::now();
    const int n_classes = int(data.labels.size());
    const ProgressCallback record = [&](const TrainProgress& p) {
        result.history.push_back(p);
        if (events.training_progress) events.training_progress(p);
    };
    TrainOutcome trained = train_softmax(training, validation, n_classes, options.train, record);
    SoftmaxLayer head = trained.layer;
    result.steps_run = trained.steps_run;
    result.best_step = options.train.keep_best ? trained.best_step : -1;
    result.train_seconds = seconds_since(train_start);
    TunedLayers tuned;
    FeatureSet tuned_testing;
    if (tune) {
        FineTuneStageResult f =
            fine_tune_after_head(options, events, data, features, extractor, standardization, head, result);
        head = std::move(f.head);
        tuned = std::move(f.tuned);
        tuned_testing = std::move(f.testing);
    }

    if (testing.size() > 0) {
        result.test = tuned.empty() ? evaluate(head, testing, test_time_flip ? &features.testing.mirrored : nullptr)
                                    : evaluate(head, tuned_testing);
        for (std::size_t i = 0; i < testing.size(); ++i)
            if (result.test.predictions[i] != testing.labels[i])
                result.misclassified.push_back({data.full_path(features.testing.relative_paths[i]),
                                                features.testing.relative_paths[i], data.labels[testing.labels[i]],
                                                data.labels[result.test.predictions[i]],
                                                result.test.top_probability[i]});
    }
    if (options.cross_validate_folds > 0 && !tune) {
        FoldOptions folds;
        folds.k = options.cross_validate_folds;
        folds.seed = options.fold_seed;
        folds.train_on_mirrored = options.train_on_mirrored;
        folds.test_time_flip = test_time_flip;
        result.cross_validation = cross_validate(all.set, all.mirrored, all.relative_paths, n_classes, folds, options.train);
    }

    ClassifierModel model;
    model.labels = data.labels;
    model.feature_layer = extractor.layer();
    model.feature_size = extractor.feature_size();
    model.weights_checksum = extractor.weights_checksum();
    model.weights_path = weights_path_to_record(options.model_path, options.weights_path);
    model.preprocessing = extractor.preprocessing();
    model.head = head;
    model.tuned = std::move(tuned);
    model.standardization = std::move(standardization);
    model.augmentation = options.augmentation;
    model.int8_ranges = extractor.int8_ranges();
    model.bf16_features = std::string(extractor.precision()) == "bf16";
    model.training = training_record(options, result, extractor.layer());
    // The model, labels and report appear together or not at all.
    const std::vector<std::uint8_t> model_bytes = serialize_classifier_model(model);
    std::vector<FileContent> outputs{{options.model_path, model_bytes.data(), model_bytes.size()}};
    const std::string labels = labels_file_text(data.labels);
    if (!options.labels_path.empty()) outputs.push_back({options.labels_path, labels.data(), labels.size()});
    const std::string html =
        options.report_path.empty() ? "" : render_report_html(report_data(options, result, extractor.layer()));
    if (!options.report_path.empty()) outputs.push_back({options.report_path, html.data(), html.size()});
    const std::string metrics = options.metrics_path.empty() ? "" : metrics_json(result);
    if (!options.metrics_path.empty()) outputs.push_back({options.metrics_path, metrics.data(), metrics.size()});
    write_files_together(outputs);
    return result;
}

}  // namespace tinception
