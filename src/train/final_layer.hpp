// Training the head (SoftmaxLayer, classify/softmax_head.hpp): its loss and hand-written
// gradients, and deterministic mini-batch training (SGD or Adam). Feature extraction and
// file formats live elsewhere (bottleneck_cache.hpp, classify/classifier_model.hpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "classify/softmax_head.hpp"

namespace tinception {

// Features with one integer label each.
struct FeatureSet {
    int feature_size = 0;
    std::vector<float> features;  // row-major [size()][feature_size]
    std::vector<int> labels;      // class index in [0, n_classes)
    std::size_t size() const { return labels.size(); }
    const float* row(std::size_t i) const { return features.data() + i * std::size_t(feature_size); }
};

enum class Optimizer { sgd, adam };

// zeros: all weights 0. small_normal (the default, as retrain.py): each weight drawn from
// a normal distribution with init_stddev, redrawn while |z| > 2 (truncated), using our own
// Box-Muller on the seeded generator. The bias always starts at 0.
enum class WeightInit { zeros, small_normal };

struct TrainOptions {
    int steps = 4000;                  // retrain.py --how_many_training_steps
    float learning_rate = 0.01f;       // retrain.py --learning_rate
    int batch_size = 100;              // retrain.py --train_batch_size; <= 0 means the whole set
    int eval_step_interval = 10;       // retrain.py --eval_step_interval
    int validation_batch_size = 100;   // retrain.py --validation_batch_size; <= 0 means all
    float l2 = 0.0f;                   // adds 0.5 * l2 * |W|^2 to the loss (bias not penalised)
    Optimizer optimizer = Optimizer::sgd;
    float adam_beta1 = 0.9f, adam_beta2 = 0.999f, adam_epsilon = 1e-8f;
    bool class_weighting = false;      // weight class c by N / (n_classes * count_c)
    WeightInit init = WeightInit::small_normal;
    float init_stddev = 0.001f;
    std::uint64_t seed = 1;            // same seed, data and build => bit-identical weights
    // With a validation set: return the weights of the evaluation with the lowest validation
    // cross-entropy (the best checkpoint), not the last ones.
    bool keep_best = true;
    int patience = 0;                  // stop after this many evaluations without a lower one; 0: never
    // Not used by train_softmax itself: retrain and cross_validate standardise the features
    // (feature_standardization.hpp) with the statistics of the rows they train on.
    bool standardize = true;
};

// Reported after the update of step `step` (0-based), every eval_step_interval steps and
// at the last step run. Accuracy and cross-entropy are on that step's training batch; the
// validation numbers are on the validation batch (drawn once per run, validation_batch_size
// rows, or the whole set), NaN when there is no validation set.
struct TrainProgress {
    int step = 0;
    double train_accuracy = 0;
    double cross_entropy = 0;
    double validation_accuracy = 0;
    double validation_cross_entropy = 0;
};
using ProgressCallback = std::function<void(const TrainProgress&)>;

// Mean (class-weighted when class_weights is non-empty) cross-entropy over the rows in
// `indices`, plus 0.5 * l2 * |W|^2; computed in double. When grad_weights / grad_bias are
// non-null they receive d loss / d W and d loss / d b (resized to fit).
double softmax_loss(const SoftmaxLayer& layer, const FeatureSet& data, const std::vector<std::size_t>& indices,
                    const std::vector<float>& class_weights, float l2, std::vector<float>* grad_weights,
                    std::vector<float>* grad_bias);

// N / (n_classes * count_c) for each class c (0 for an absent class).
std::vector<float> balanced_class_weights(const FeatureSet& data, int n_classes);

// A layer of the given size, initialised as `options` says.
SoftmaxLayer init_softmax_layer(int n_classes, int feature_size, const TrainOptions& options);

// What a training run gave: the weights it returns and where it stopped.
struct TrainOutcome {
    SoftmaxLayer layer;      // the best checkpoint's weights, or the last ones (see TrainOptions)
    int steps_run = 0;       // fewer than options.steps when patience ran out
    int best_step = -1;      // 0-based step of the lowest validation cross-entropy; -1 without validation
    double best_validation_cross_entropy = 0;
};

// Trains from init_softmax_layer. Batches are drawn with replacement (as retrain.py does)
// by uniform_index on a std::mt19937_64 seeded with options.seed, so the sequence of
// batches is the same everywhere; the weights are bit-identical for the same build (Eigen's
// summation order may differ between compilers or ISA flags). The validation set is
// evaluated every eval_step_interval steps whether or not progress is reported, so progress
// never changes the result; an empty validation set (FeatureSet{} will do) turns the
// validation numbers into NaN and the last weights are returned. Throws Error on an empty
// training set, mismatched feature sizes or labels out of range.
TrainOutcome train_softmax(const FeatureSet& training, const FeatureSet& validation, int n_classes,
                           const TrainOptions& options, const ProgressCallback& progress = {});
// train_softmax's weights alone.
SoftmaxLayer train_softmax_layer(const FeatureSet& training, const FeatureSet& validation, int n_classes,
                                 const TrainOptions& options, const ProgressCallback& progress = {});

struct Evaluation {
    double accuracy = 0;
    double cross_entropy = 0;
    std::vector<std::vector<int>> confusion;  // [true class][predicted class]
    std::vector<int> predictions;             // argmax per row (lowest index on ties)
    std::vector<float> top_probability;       // probability of the prediction, per row
};
// With `mirrored` (the rows' images mirrored, same order), each row's probabilities are the
// mean of the row's and its mirror's, as guess does for a model with test-time flips.
Evaluation evaluate(const SoftmaxLayer& layer, const FeatureSet& data, const FeatureSet* mirrored = nullptr);

}  // namespace tinception
