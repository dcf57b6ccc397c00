// Fine-tuning: the convolutions of a span trained together with a new softmax head on the
// span's pooled layers (tuned_features.hpp), from the frozen layer's activations of each
// training image, computed once. Mini-batches of a seeded shuffle, Adam with separate
// learning rates for the span and the head. Extracting the activations and writing models
// live elsewhere.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "finetune/adam.hpp"
#include "finetune/tuned_features.hpp"
#include "train/final_layer.hpp"

namespace tinception {

// The frozen layer's output for a set of images, each with a label. Its size is what fine-
// tuning holds in memory: for mixed5 (17x17x768) 0.89 MB an image, 428 MB for 482 images.
struct SpatialSet {
    ActivationShape shape;           // one image's
    std::vector<float> activations;  // [size()][h][w][c]
    int frozen_size = 0;             // TunedFeatures::frozen_size()
    std::vector<float> frozen;       // [size()][frozen_size]: the frozen layers' pooled values
    std::vector<int> labels;
    std::size_t size() const { return labels.size(); }
    std::size_t floats_per_image() const { return std::size_t(shape.h) * shape.w * shape.c; }
    const float* image(std::size_t i) const { return activations.data() + i * floats_per_image(); }
    const float* frozen_row(std::size_t i) const { return frozen.data() + i * std::size_t(frozen_size); }
};

// Every row index of `set`, in order.
std::vector<std::size_t> all_rows(const SpatialSet& set);

// One image's activations [h][w][c] mirrored left-right (columns reversed) into `out`: how
// --mirror enters the tuned layers. Pooled values are the same for the mirror, so the frozen
// layers' columns stay as they are.
void mirror_activations(const float* image, const ActivationShape& shape, float* out);

struct FineTuneOptions {
    int steps = 200;
    int batch_size = 16;                 // images per step; a fresh shuffle of the set each epoch
    float head_learning_rate = 1e-3f;    // Adam, for the head's weights and bias
    float span_learning_rate = 1e-4f;    // Adam, for the span's convolutions
    // Adds 0.5 * decay * |W - W0|^2 for each convolution's weights W, W0 being the weight
    // file's: the span stays near the weights it started from, which a small data set cannot
    // replace (decay toward zero would erase them). Biases are not decayed.
    float span_weight_decay = 1e-3f;
    float head_l2 = 0.0f;                // adds 0.5 * l2 * |head W|^2
    bool class_weighting = false;        // weight class c by N / (n_classes * count_c)
    AdamSettings adam;
    int eval_step_interval = 20;         // evaluate the validation set every this many steps and at the last
    int eval_batch_size = 16;            // images per forward pass when evaluating
    bool keep_best = true;               // return the evaluation with the lowest validation cross-entropy
    bool mirror = false;                 // each training image also enters mirrored (mirror_activations)
    int patience = 0;                    // stop after this many evaluations without a lower one; 0: never
    std::uint64_t seed = 1;
};

struct FineTuneOutcome {
    SoftmaxLayer head;
    std::vector<TrainableConv> convolutions;  // weights and bias of each, gradients cleared
    int steps_run = 0;
    int best_step = -1;                       // -1 without validation
    double best_validation_cross_entropy = 0;
};

// The features of the rows `rows` of `set` (mirrored: of their mirrors) with the span's
// current weights, in batches: what a head is trained or evaluated on.
FeatureSet pooled_features(TunedFeatures& features, const SpatialSet& set, const std::vector<std::size_t>& rows,
                           int batch_size, bool mirrored = false);

// Mean (row-weighted when row_weights is not null) cross-entropy of `head` on the features
// of n images (activations `inputs`, frozen values `frozen`), plus the decay and l2 terms
// of `options` (`initial` holding W0); fills the span's gradients and head_gradient's
// weights and bias (resized to fit).
double fine_tune_loss(TunedFeatures& features, const std::vector<TrainableConv>& initial, const SoftmaxLayer& head,
                      const float* inputs, const float* frozen, const int* labels, const float* row_weights, int n,
                      const FineTuneOptions& options, SoftmaxLayer* head_gradient);

// Trains the span's convolutions and `head` (sized for the features, e.g. a head trained on
// pooled_features) together on the rows `training` of `set`, evaluating on the rows
// `validation` (may be empty); leaves the returned weights in the span. The same data,
// options and build give the same bits for any thread count, with or without progress.
// Throws Error on an empty training set, a set of another shape or a bad option.
FineTuneOutcome fine_tune(TunedFeatures& features, const SpatialSet& set, const std::vector<std::size_t>& training,
                          const std::vector<std::size_t>& validation, SoftmaxLayer head,
                          const FineTuneOptions& options, const ProgressCallback& progress = {});

}  // namespace tinception
