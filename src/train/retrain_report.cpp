// Gathers a retraining run's settings and results into the report's data. Numbers are
// written as the command line takes them, so a reader can repeat the run.
#include "train/retrain_report.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace tinception {
namespace {

std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

std::string distortions(const DistortionOptions& d) {
    if (!d.any()) return "none";
    std::string text = std::to_string(d.copies) + " copies of each training image:";
    if (d.flip_left_right) text += " --flip-left-right";
    if (d.random_crop_percent > 0) text += " --random-crop " + number(d.random_crop_percent);
    if (d.random_scale_percent > 0) text += " --random-scale " + number(d.random_scale_percent);
    if (d.random_brightness_percent > 0) text += " --random-brightness " + number(d.random_brightness_percent);
    return text;
}

// "2026-11-30T12:43:36Z" for $SOURCE_DATE_EPOCH if it holds a number of seconds, else now.
std::string training_date() {
    std::time_t when = std::time(nullptr);
    if (const char* fixed = std::getenv("SOURCE_DATE_EPOCH"); fixed && *fixed) {
        char* end = nullptr;
        const long long seconds = std::strtoll(fixed, &end, 10);
        if (*end == '\0' && seconds >= 0) when = std::time_t(seconds);
    }
    std::tm utc{};
    gmtime_r(&when, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

}  // namespace

ReportData report_data(const RetrainOptions& options, const RetrainResult& result, const std::string& layer) {
    const TrainOptions& t = options.train;
    ReportData report;
    report.settings = {
        {"data folder", result.dataset.root},
        {"weights", options.weights_path},
        {"bottleneck layer", layer},
        {"steps", std::to_string(t.steps)},
        {"learning rate", number(t.learning_rate)},
        {"batch size", t.batch_size > 0 ? std::to_string(t.batch_size) : "whole training set"},
        {"optimizer", t.optimizer == Optimizer::adam ? "adam" : "sgd"},
        {"L2 penalty", number(t.l2)},
        {"class weights", t.class_weighting ? "balanced" : "none"},
        {"evaluation interval", std::to_string(t.eval_step_interval) + " steps"},
        {"kept weights", t.keep_best ? "lowest validation cross-entropy" : "last step"},
        {"patience", t.patience > 0 ? std::to_string(t.patience) + " evaluations" : "off"},
        {"validation batch size", t.validation_batch_size > 0 ? std::to_string(t.validation_batch_size) : "whole set"},
        {"validation / testing share", number(options.split.validation_percentage) + "% / " +
                                           number(options.split.testing_percentage) + "%"},
        {"distortions", distortions(options.distortions)},
        {"mirrored copies", options.train_on_mirrored ? "each training image" : "none"},
        {"test-time augmentation", options.augmentation == TestTimeAugmentation::flip ? "flip" : "none"},
        {"features standardised", t.standardize ? "yes" : "no"},
        {"seed", std::to_string(t.seed)},
        {"precision", options.calibration.int8
                          ? "int8, calibrated on " + std::to_string(result.calibration_images) + " " +
                                (options.calibration.folder.empty() ? "training images" : "images of " + options.calibration.folder) +
                                " (" + range_rule_text(options.calibration.rule) + ")"
                          : options.calibration.bf16 ? "bf16" : "fp32"},
        {"JPEG decoding", options.decode == DecodeMode::exact ? "at stored size (exact)" : "scaled in the DCT to the input size"},
        {"bottleneck cache", options.cache_dir.empty() ? "off" : options.cache_dir},
        {"features", std::to_string(result.features_computed) + " computed, " +
                         std::to_string(result.features_from_cache) + " from the cache"},
    };
    report.labels = result.dataset.labels;
    report.split_counts = result.split_counts;
    report.skipped = result.skipped;
    report.history = result.history;
    report.confusion = result.test.confusion;
    report.test_accuracy = result.test.accuracy;
    report.test_count = result.testing_count;
    report.misclassified = result.misclassified;
    report.fold_accuracy = result.cross_validation.fold_accuracy;
    if (options.fold_seed != 0) report.settings.push_back({"fold seed", std::to_string(options.fold_seed)});
    report.fold_mean = result.cross_validation.mean_accuracy;
    report.fold_stddev = result.cross_validation.stddev_accuracy;
    return report;
}

TrainingRecord training_record(const RetrainOptions& options, const RetrainResult& result, const std::string& layer) {
    TrainingRecord t;
    t.present = true;
    t.trained_at = training_date();
    for (auto& [name, value] : report_data(options, result, layer).settings) {
        // The weight file is recorded as the model's weights path and checksum.
        if (name == "bottleneck cache" || name == "features" || name == "weights") continue;
        std::error_code ec;
        const std::filesystem::path absolute = std::filesystem::absolute(value, ec);
        t.settings.emplace_back(name, name == "data folder" && !ec ? absolute.lexically_normal().string() : value);
    }
    t.split_counts = result.split_counts;
    t.test_count = std::uint32_t(result.testing_count);
    t.test_accuracy = float(result.test.accuracy);
    t.folds = std::uint32_t(result.cross_validation.fold_accuracy.size());
    t.fold_mean = float(result.cross_validation.mean_accuracy);
    t.fold_stddev = float(result.cross_validation.stddev_accuracy);
    return t;
}

}  // namespace tinception
