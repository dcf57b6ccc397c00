// The whole retraining job, as a library call: scan and split the data folder, compute
// bottlenecks through the cache, train the softmax head, evaluate it on the test split,
// and write the model, the labels file and the HTML report. The caller shows progress.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "classify/classifier_model.hpp"
#include "finetune/fine_tuner.hpp"
#include "image/preprocess.hpp"
#include "model/packed_weights.hpp"
#include "quant/calibration_set.hpp"
#include "train/cross_validation.hpp"
#include "train/dataset.hpp"
#include "train/distortions.hpp"
#include "train/final_layer.hpp"
#include "train/report_html.hpp"

namespace tinception {

struct RetrainOptions {
    std::string data_dir;
    std::string weights_path;
    std::string layer = "mixed3,mixed5,mixed7";
    std::string cache_dir;      // empty: no bottleneck cache
    std::string model_path;     // required
    std::string labels_path;    // empty: not written
    std::string report_path;    // empty: not written
    std::string metrics_path;   // JSON of every evaluation and the test result; empty: not written
    bool overwrite = false;     // replace existing outputs instead of refusing
    bool require_cached = false;  // read every bottleneck from the cache; fail listing the missing
    SplitOptions split;
    TrainOptions train;
    int cross_validate_folds = 0;  // 0: no cross-validation
    std::uint64_t fold_seed = 0;   // FoldOptions::seed
    // Each training image's mirror joins the training rows (cached like the originals).
    bool train_on_mirrored = false;
    // Stored in the model: guess averages the scores of an image and its mirror; the test
    // split and cross-validation are scored the same way.
    TestTimeAugmentation augmentation = TestTimeAugmentation::none;
    // When any is set, each training image also adds `copies` distorted copies, computed
    // by the network on every run (never cached), seeded by train.seed.
    DistortionOptions distortions;
    // exact: every image decoded at its stored size, as the default ImageLimits do.
    DecodeMode decode = DecodeMode::exact;
    // Not empty: after the head is trained, the layers after this one up to `layer` are
    // fine-tuned with it (finetune/fine_tune_stage.hpp) and the model carries them.
    std::string fine_tune_from;
    FineTuneOptions fine_tune;
    // int8: the features come from the int8 network, calibrated on calibration.folder's images
    // or, when empty, on the training split's; the model stores the ranges.
    CalibrationOptions calibration;
    // Where the networks' packed weights come from (fp32 for bottlenecks and calibration, int8,
    // bf16): the packed-weights cache guess uses, or packed in memory for this run.
    PackedCacheChoice packed_cache{false, {}};
};

struct RetrainResult;

struct RetrainEvents {
    std::function<void(const std::string&)> warning;
    // Network passes: what ("bottlenecks", "distorted copies") and how many images.
    std::function<void(const std::string& what, std::size_t total)> features_started;
    std::function<void(std::size_t done)> features_progress;
    std::function<void()> features_finished;
    // The split is known and training is about to start (result holds the counts so far).
    std::function<void(const RetrainResult&)> split_ready;
    ProgressCallback training_progress;
    ProgressCallback fine_tune_progress;  // each evaluation while fine-tuning
};

struct RetrainResult {
    Dataset dataset;
    std::size_t calibration_images = 0;  // int8 only
    std::size_t features_computed = 0;
    std::size_t features_from_cache = 0;
    std::size_t images_skipped = 0;
    std::size_t distorted_copies = 0;
    std::size_t mirrored_copies = 0;  // mirrors added to the training rows
    std::size_t training_count = 0, validation_count = 0, testing_count = 0;  // images, not rows
    std::vector<SplitCounts> split_counts;  // usable images per label and split
    std::vector<std::string> skipped;       // every file left out, with the reason
    std::vector<std::string> advice;        // small or unbalanced categories (dataset_advice)
    std::vector<TrainProgress> history;  // what the trainer reported, in step order
    int steps_run = 0;                   // under train.steps when patience ran out
    int best_step = -1;                  // the kept checkpoint's step (0-based); -1: the last weights
    Evaluation test;
    std::vector<MisclassifiedImage> misclassified;
    CrossValidationResult cross_validation;  // empty fold list when not asked for
    double calibration_seconds = 0;  // int8: loading the calibration images and the fp32 pass over them
    double feature_seconds = 0;
    double train_seconds = 0;
    // Fine-tuning, when asked for: its steps, the kept step (-1: the last), its time and the
    // frozen activations it held; `history` then goes on with its evaluations.
    int fine_tune_steps_run = 0, fine_tune_best_step = -1;
    double fine_tune_seconds = 0;
    std::size_t fine_tune_activation_bytes = 0;
};

// Throws Error for a precision these options cannot train in: int8 or bf16 with fine-tuning
// (tuned layers run in fp32 only), bf16 on a CPU without AVX-512 BF16. retrain() checks it
// first; the command line too, before it reads anything.
void check_retrain_precision(const RetrainOptions& options);

// Throws Error on a bad data folder, missing weights, a category left with too few
// usable images, or an output that exists while overwrite is false (checked before any
// work is done).
RetrainResult retrain(const RetrainOptions& options, const RetrainEvents& events = {});

}  // namespace tinception
