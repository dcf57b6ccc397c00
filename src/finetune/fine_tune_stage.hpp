// The fine-tuning stage of a training run: the frozen layer's activations of every image
// (decoded and run once), then the span above it trained with the head the run already
// trained on the frozen features as its start, the test images scored with both, and, when
// asked, k-fold cross-validation of the same fine-tuning on those activations.
// Splitting, caching and model files live in train/ and classify/.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "classify/feature_standardization.hpp"
#include "finetune/fine_tuner.hpp"
#include "finetune/tuned_layers.hpp"
#include "image/preprocess.hpp"
#include "train/cross_validation.hpp"

namespace tinception {

class WeightFile;

// Images of one split with their labels; paths as load_image takes them.
struct LabelledImages {
    std::vector<std::string> paths;
    std::vector<int> labels;
};

struct FineTuneStageEvents {
    // A pass over images: what ("activations of mixed4", "fine-tuning") and how many images.
    std::function<void(const std::string& what, std::size_t total)> started;
    std::function<void(std::size_t done)> progress;
    std::function<void()> finished;
    ProgressCallback evaluation;  // after each evaluation of the validation images
};

// Cross-validation of fine-tuning: each fold trains a head on the frozen features of the
// other folds' images (standardised by them when head.standardize), fine-tunes from it on
// those images for the stage's steps (no validation: the last weights), and is scored on
// its own images.
struct FineTuneFolds {
    int k = 0;              // 0: none
    std::vector<int> fold;  // per image: the training, then validation, then testing images
    TrainOptions head;
};

struct FineTuneStageResult {
    SoftmaxLayer head;
    TunedLayers tuned;
    FeatureSet testing;          // the test images' features through the tuned span, standardised
    int steps_run = 0, best_step = -1;
    CrossValidationResult cross_validation;  // empty fold list when not asked for
    std::size_t activation_bytes = 0;  // what the frozen layer's activations held
    double activation_seconds = 0, tuning_seconds = 0, cross_validation_seconds = 0;
};

// Throws Error, naming the layer, unless the layers after `from` up to `to` (a layer or a
// layer set) can be fine-tuned: for a run to refuse before any work.
void check_fine_tune_span(const WeightFile& weights, const std::string& from, const std::string& to);

// Trains the convolutions after `from` up to `to` of `weights` (to: the layer or layer set
// the head reads, through `standardization`) together with `head`. Throws Error for a span
// that cannot be trained or an image that no longer decodes.
FineTuneStageResult run_fine_tune_stage(const WeightFile& weights, const std::string& from, const std::string& to,
                                        const ImageLimits& decode, const LabelledImages& training,
                                        const LabelledImages& validation, const LabelledImages& testing,
                                        const FeatureStandardization& standardization, const SoftmaxLayer& head,
                                        const FineTuneOptions& options, const FineTuneFolds& folds = {},
                                        const FineTuneStageEvents& events = {});

// The cross-validation FineTuneFolds describes over every image of `set` (fold[i] for row i),
// with `options` (validation and keep_best unused); restores the span's weights after.
// Throws Error for fewer than 2 folds, or a fold that is empty or holds every image.
CrossValidationResult cross_validate_fine_tuning(TunedFeatures& features, const SpatialSet& set,
                                                 const FineTuneFolds& folds, int n_classes,
                                                 const FineTuneOptions& options,
                                                 const std::function<void(int fold)>& fold_done = {});

}  // namespace tinception
