// The fine-tuning stage of a training run: the frozen layer's activations of the split's
// images (decoded and run once), then the span above it trained with the head the run
// already trained on the frozen features as its start, and the test images scored with both.
// Splitting, caching and model files live in train/ and classify/.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "finetune/fine_tuner.hpp"
#include "finetune/tuned_layers.hpp"
#include "image/preprocess.hpp"

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

struct FineTuneStageResult {
    SoftmaxLayer head;
    TunedLayers tuned;
    FeatureSet testing;          // the test images' features through the tuned span
    int steps_run = 0, best_step = -1;
    std::size_t activation_bytes = 0;  // what the frozen layer's activations held
    double activation_seconds = 0, tuning_seconds = 0;
};

// Throws Error, naming the layer, unless the layers after `from` up to `to` can be fine-tuned:
// for a run to refuse before any work.
void check_fine_tune_span(const WeightFile& weights, const std::string& from, const std::string& to);

// Trains the convolutions after `from` up to `to` of `weights` (to: the feature layer the
// head reads) together with `head`. Throws Error for a span that cannot be trained or an
// image that no longer decodes.
FineTuneStageResult run_fine_tune_stage(const WeightFile& weights, const std::string& from, const std::string& to,
                                        const ImageLimits& decode, const LabelledImages& training,
                                        const LabelledImages& validation, const LabelledImages& testing,
                                        const SoftmaxLayer& head, const FineTuneOptions& options,
                                        const FineTuneStageEvents& events = {});

}  // namespace tinception
