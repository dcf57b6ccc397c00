// `tinception train DATA_DIR -o MODEL`: retrain.py's job, with its flags and defaults.
#include <cxxopts.hpp>
#include <sys/resource.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/decode_option.hpp"
#include "cli/arguments.hpp"
#include "cli/cli_paths.hpp"
#include "cli/commands.hpp"
#include "cli/feature_options.hpp"
#include "cli/thread_option.hpp"
#include "cli/fine_tune_options.hpp"
#include "cli/precision_option.hpp"
#include "cli/progress.hpp"
#include "error.hpp"
#include "train/retrain.hpp"

namespace tinception::cli {
namespace {

void print_confusion(const std::vector<std::string>& labels, const std::vector<std::vector<int>>& confusion) {
    std::size_t width = 9;  // "predicted"
    for (const std::string& l : labels) width = std::max(width, l.size());
    std::printf("Confusion matrix on the test set (rows: true label, columns: predicted):\n");
    std::printf("  %-*s", int(width), "");
    for (const std::string& l : labels) std::printf("  %*s", int(width), l.c_str());
    std::printf("\n");
    for (std::size_t t = 0; t < labels.size(); ++t) {
        std::printf("  %-*s", int(width), labels[t].c_str());
        for (std::size_t p = 0; p < labels.size(); ++p)
            std::printf("  %*d", int(width), t < confusion.size() && p < confusion[t].size() ? confusion[t][p] : 0);
        std::printf("\n");
    }
}

// Progress bars for the feature passes and a line per split and per evaluation on stdout.
void set_progress_events(const RetrainOptions& o, std::unique_ptr<Progress>& progress, std::size_t& reported,
                         RetrainEvents& events) {
    events.features_started = [&](const std::string& what, std::size_t total) {
        progress = std::make_unique<Progress>(what, total, "images");
        reported = 0;
    };
    events.features_progress = [&](std::size_t done) {
        progress->advance(done - reported);
        reported = done;
    };
    events.features_finished = [&] {
        progress->finish();
        progress.reset();
    };
    events.split_ready = [&o](const RetrainResult& r) {
        if (r.calibration_images)
            std::printf("int8 calibration: %zu images, %.1f s\n", r.calibration_images, r.calibration_seconds);
        std::printf("bottlenecks: %zu computed, %zu from cache (%s), %zu skipped, in %.1f s\n", r.features_computed,
                    r.features_from_cache, o.cache_dir.empty() ? "no cache" : o.cache_dir.c_str(), r.images_skipped,
                    r.feature_seconds);
        if (r.distorted_copies) std::printf("distortions: %zu distorted copies added to training\n", r.distorted_copies);
        if (r.mirrored_copies) std::printf("mirrors: %zu mirrored copies added to training\n", r.mirrored_copies);
        std::printf("split: %zu training, %zu validation, %zu testing images\n", r.training_count, r.validation_count,
                    r.testing_count);
        std::fflush(stdout);
    };
    const int steps = o.train.steps;
    events.training_progress = [steps](const TrainProgress& p) {
        std::printf("step %d/%d: train accuracy %.1f%%, cross-entropy %.4f, validation accuracy %.1f%%\n",
                    p.step + 1, steps, 100 * p.train_accuracy, p.cross_entropy, 100 * p.validation_accuracy);
    };
    const int tuning_steps = o.fine_tune.steps;
    events.fine_tune_progress = [tuning_steps](const TrainProgress& p) {
        char line[160];
        std::snprintf(line, sizeof line, "fine-tuning step %d/%d: cross-entropy %.4f, validation accuracy %.1f%%, "
                      "validation cross-entropy %.4f", p.step + 1, tuning_steps, p.cross_entropy,
                      100 * p.validation_accuracy, p.validation_cross_entropy);
        std::printf("\r%s\n", line);  // over a progress bar's line; the bar redraws below
        std::fflush(stdout);
    };
}

// What the run gave: test accuracy, confusion, misses, cross-validation, memory, files.
void print_summary(const RetrainOptions& o, const RetrainResult& r) {
    if (r.steps_run < o.train.steps)
        std::printf("stopped at step %d: no lower validation cross-entropy in %d evaluations\n", r.steps_run,
                    o.train.patience);
    if (r.best_step >= 0) std::printf("kept the weights of step %d, the lowest validation cross-entropy\n", r.best_step + 1);
    std::printf("training took %.2f s\n", r.train_seconds);
    if (!o.fine_tune_from.empty())
        std::printf("fine-tuned the layers after %s up to %s: %d steps (kept step %d), %.1f s, %.0f MB of %s's "
                    "activations\n", o.fine_tune_from.c_str(), o.layer.c_str(), r.fine_tune_steps_run,
                    r.fine_tune_best_step + 1, r.fine_tune_seconds, double(r.fine_tune_activation_bytes) / 1e6,
                    o.fine_tune_from.c_str());
    if (r.testing_count > 0) {
        std::printf("Final test accuracy = %.1f%% (N=%zu)\n", 100 * r.test.accuracy, r.testing_count);
        print_confusion(r.dataset.labels, r.test.confusion);
        std::printf("Misclassified test images: %zu\n", r.misclassified.size());
        for (const MisclassifiedImage& m : r.misclassified)
            std::printf("  %s  (%s, guessed %s %.5f)\n", m.path.c_str(), m.true_label.c_str(),
                        m.predicted_label.c_str(), m.probability);
    }
    if (!r.cross_validation.fold_accuracy.empty())
        std::printf("%zu-fold cross-validated accuracy = %.1f%% +- %.1f\n", r.cross_validation.fold_accuracy.size(),
                    100 * r.cross_validation.mean_accuracy, 100 * r.cross_validation.stddev_accuracy);
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    std::printf("peak memory: %.1f MB resident\n", double(usage.ru_maxrss) * 1024.0 / 1e6);
    std::printf("wrote %s, %s, %s%s%s\n", o.model_path.c_str(), o.labels_path.c_str(), o.report_path.c_str(),
                o.metrics_path.empty() ? "" : ", ", o.metrics_path.c_str());
}

}  // namespace

int run_train(int argc, char** argv) {
    cxxopts::Options options("tinception train",
                             "Train a new final layer on DATA_DIR, one sub-folder of images per category.");
    options.positional_help("DATA_DIR -o MODEL");
    options.add_options()
        ("o,output", "the trained model file to write", cxxopts::value<std::string>())
        ("no-cache", "compute every bottleneck, read and write no cache")
        ("no-packed-cache", "pack the weights in memory instead of using the packed-weights cache "
                            "(~/.cache/tinception/packed, which guess uses too)")
        ("require-cached", "read every bottleneck from the cache, compute none: fail listing the images missing "
                           "(after 'tinception bottlenecks' filled the cache, e.g. on a job array)")
        ("output-labels", "labels file (default: MODEL with .labels.txt)", cxxopts::value<std::string>())
        ("report", "HTML report (default: MODEL with .report.html)", cxxopts::value<std::string>())
        ("metrics-json", "also write each evaluation's step, accuracies and cross-entropies, and the test "
                         "result, as JSON to FILE", cxxopts::value<std::string>())
        ("q,quiet", "print only warnings and errors")
        ("validation-percentage", "percentage of images used for validation (0..99)", cxxopts::value<std::string>()->default_value("10"))
        ("testing-percentage", "percentage of images used for the final test (0..99)", cxxopts::value<std::string>()->default_value("10"))
        ("steps", "training steps (1..10000000)", cxxopts::value<std::string>()->default_value("4000"))
        ("learning-rate", "learning rate (above 0, up to 10; retrain.py's SGD took 0.01)", cxxopts::value<std::string>()->default_value("0.001"))
        ("batch-size", "images per training step; 0: the whole training set", cxxopts::value<std::string>()->default_value("100"))
        ("eval-interval", "steps between evaluations on the validation set (1 or more); the weights of the one "
                          "with the lowest validation cross-entropy are kept", cxxopts::value<std::string>()->default_value("10"))
        ("patience", "stop after this many evaluations without a lower validation cross-entropy (0: off)",
         cxxopts::value<std::string>()->default_value("0"))
        ("assert-accuracy-at-least", "exit with code 3 when the final test accuracy is below X (0..1, e.g. 0.95), "
                                     "after writing the outputs", cxxopts::value<std::string>())
        ("validation-batch-size", "validation images per evaluation; 0: the whole validation set",
         cxxopts::value<std::string>()->default_value("100"))
        ("optimizer", "adam or sgd (retrain.py's)", cxxopts::value<std::string>()->default_value("adam"))
        ("l2", "L2 weight penalty (0 or more)", cxxopts::value<std::string>()->default_value("0"))
        ("class-weights", "weight classes inversely to their size (for unbalanced categories)")
        ("seed", "random seed (same data, flags and seed give the same model file)", cxxopts::value<std::string>()->default_value("1"))
        ("cross-validate", "also report K-fold cross-validated accuracy (K from 2; 0: off)", cxxopts::value<std::string>()->default_value("0"))
        ("fold-seed", "which partition into folds --cross-validate uses (0: the classic one)",
         cxxopts::value<std::string>()->default_value("0"))
        ("mirror", "also train on each training image mirrored left-right, cached like the originals (the "
                   "default, except with --fine-tune-from)")
        ("no-mirror", "train on the images as they are, without their mirrors (half the bottlenecks to compute)")
        ("tta", "test-time augmentation stored in the model: none, or flip (guess averages the scores of the "
                "image and its mirror)", cxxopts::value<std::string>()->default_value("none"))
        ("flip-left-right", "distortions: mirror training images at random")
        ("random-crop", "distortions: crop margin, percent (0..99)", cxxopts::value<std::string>()->default_value("0"))
        ("random-scale", "distortions: extra zoom of up to this percent (0..999)", cxxopts::value<std::string>()->default_value("0"))
        ("random-brightness", "distortions: change brightness by up to this percent (0..99)", cxxopts::value<std::string>()->default_value("0"))
        ("distorted-copies", "with a distortion: copies of each training image, computed on every run (not cached; 1..100)",
         cxxopts::value<std::string>()->default_value("4"))
        ("force", "replace existing output files")
        ("h,help", "show this help");
    add_feature_options(options);
    add_fine_tune_options(options);
    add_precision_options(options);
    add_threads_option(options);
    const Arguments parsed = parse_arguments(options, argc, argv, 1, 1, "train DATA_DIR -o MODEL");
    const cxxopts::ParseResult& args = parsed.options;
    if (args.count("help")) {
        std::cout << options.help({""});
        return kExitOk;
    }
    if (!args.count("output")) throw Error("train needs -o MODEL, the model file to write");
    const auto text_option = [&args](const char* name) {
        return args.count(name) ? args[name].as<std::string>() : std::string();
    };

    RetrainOptions o;
    o.data_dir = parsed.positional[0];
    o.weights_path = weights_path_option(args);
    o.layer = args["bottleneck"].as<std::string>();
    o.model_path = args["output"].as<std::string>();
    o.labels_path = text_option("output-labels");
    if (o.labels_path.empty()) o.labels_path = with_suffix(o.model_path, ".labels.txt");
    o.report_path = text_option("report");
    if (o.report_path.empty()) o.report_path = with_suffix(o.model_path, ".report.html");
    o.metrics_path = text_option("metrics-json");
    const bool quiet = args.count("quiet") > 0;
    if (!args.count("no-cache")) o.cache_dir = cache_dir_option(args);
    o.overwrite = args.count("force") > 0;
    o.require_cached = args.count("require-cached") > 0;
    o.packed_cache = PackedCacheChoice{args.count("no-packed-cache") == 0, {}, /*copy_mapped=*/true};
    o.decode = decode_mode_option(args);
    if (o.require_cached && o.cache_dir.empty()) throw Error("--require-cached and --no-cache exclude each other");
    o.split.validation_percentage = number_option(args, "validation-percentage", 0, 99);
    o.split.testing_percentage = number_option(args, "testing-percentage", 0, 99);
    if (o.split.validation_percentage + o.split.testing_percentage >= 100)
        throw Error("--validation-percentage plus --testing-percentage must be under 100, to leave images for training");
    o.train.steps = int(integer_option(args, "steps", 1, 10'000'000));
    o.train.learning_rate = float(number_option(args, "learning-rate", 0, 10, true));
    o.train.batch_size = int(integer_option(args, "batch-size", 0, 1'000'000));
    o.train.eval_step_interval = int(integer_option(args, "eval-interval", 1, 10'000'000));
    o.train.patience = int(integer_option(args, "patience", 0, 10'000'000));
    const bool assert_accuracy = args.count("assert-accuracy-at-least") > 0;
    const double least_accuracy = assert_accuracy ? number_option(args, "assert-accuracy-at-least", 0, 1) : 0;
    if (assert_accuracy && o.split.testing_percentage == 0)
        throw Error("--assert-accuracy-at-least needs test images; --testing-percentage is 0");
    o.train.validation_batch_size = int(integer_option(args, "validation-batch-size", 0, 1'000'000));
    o.train.l2 = float(number_option(args, "l2", 0, 1e6));
    o.train.class_weighting = args.count("class-weights") > 0;
    o.train.seed = std::uint64_t(integer_option(args, "seed", 0, INT64_MAX));
    const std::string optimizer = args["optimizer"].as<std::string>();
    if (optimizer == "adam")
        o.train.optimizer = Optimizer::adam;
    else if (optimizer != "sgd")
        throw Error("--optimizer takes sgd or adam, not '" + optimizer + "'");
    o.distortions.flip_left_right = args.count("flip-left-right") > 0;
    o.distortions.random_crop_percent = float(number_option(args, "random-crop", 0, 99));
    o.distortions.random_scale_percent = float(number_option(args, "random-scale", 0, 999));
    o.distortions.random_brightness_percent = float(number_option(args, "random-brightness", 0, 99));
    o.distortions.copies = int(integer_option(args, "distorted-copies", 1, 100));
    if (args.count("distorted-copies") && !o.distortions.any())
        throw Error("--distorted-copies needs a distortion: --flip-left-right, --random-crop, --random-scale or "
                    "--random-brightness");
    o.cross_validate_folds = int(integer_option(args, "cross-validate", 0, 1000));
    o.fold_seed = std::uint64_t(integer_option(args, "fold-seed", 0, INT64_MAX));
    const std::string tta = args["tta"].as<std::string>();
    if (tta == "flip")
        o.augmentation = TestTimeAugmentation::flip;
    else if (tta != "none")
        throw Error("--tta takes none or flip, not '" + tta + "'");
    if (o.cross_validate_folds == 1) throw Error("--cross-validate takes K from 2 (or 0: off), not 1");
    apply_fine_tune_options(args, o);
    // Chosen by cross-validation (README): mirrors helped the head alone in 7 of 10 fold
    // seeds, and made fine-tuning worse.
    o.train_on_mirrored = mirror_option(args, o.fine_tune_from.empty());
    o.calibration = calibration_options(args, false);
    check_retrain_precision(o);
    apply_threads_option(args);

    std::unique_ptr<Progress> progress;
    RetrainEvents events;
    events.warning = [&progress](const std::string& w) {
        if (progress)
            progress->warn(w);
        else
            std::fprintf(stderr, "warning: %s\n", w.c_str());
    };
    std::size_t reported = 0;
    if (!quiet) set_progress_events(o, progress, reported, events);
    const RetrainResult r = retrain(o, events);
    if (!quiet) print_summary(o, r);
    if (assert_accuracy && (r.testing_count == 0 || r.test.accuracy < least_accuracy)) {
        std::fprintf(stderr, "tinception: error: final test accuracy %.1f%% (N=%zu) is below --assert-accuracy-at-least %g\n",
                     100 * r.test.accuracy, r.testing_count, least_accuracy);
        return kExitBelowAccuracy;
    }
    return kExitOk;
}

}  // namespace tinception::cli
