// A trained model ready to classify: the model file and the weight file it was trained on,
// checked against each other once. Immutable, so threads share one; each thread runs its own
// FeatureExtractor over the shared weights and their one packed copy.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "classify/classifier_model.hpp"
#include "image/image.hpp"
#include "model/feature_extractor.hpp"
#include "model/packed_weights.hpp"

namespace tinception {

class WeightFile;

struct LabelScore {
    std::string label;
    float score = 0;
};

class Classifier {
public:
    // Loads the model, then the header, table and graph of the weights it names (or
    // `weights_path` when not empty): milliseconds. The weights' data is checked, and their
    // packed copy made, when packed_weights() or extractor() first needs it, through the
    // packed-weights cache unless `cache` says not to (packed_weights.hpp).
    static Classifier open(const std::string& model_path, const std::string& weights_path = "",
                           const PackedCacheChoice& cache = {});
    // Refuses, with one line naming `model_name`, weights that are not the ones the model was
    // trained on: another checksum, no such feature layer or another feature size, other preprocessing.
    Classifier(ClassifierModel model, std::shared_ptr<const WeightFile> weights, const std::string& model_name,
               const PackedCacheChoice& cache = {false, {}});

    const ClassifierModel& model() const { return model_; }
    // Where its networks keep packed weights between runs (or not): for a precision switched later.
    const PackedCacheChoice& packed_cache() const { return cache_; }
    const WeightFile& weights() const { return *weights_; }
    // Made on the first call (thread-safe), shared by every extractor; throws for damaged weights.
    const std::shared_ptr<const PackedWeights>& packed_weights() const;
    bool has_layer(const std::string& layer) const;

    // The network up to `layer` (empty: the model's feature layer, in the model's precision)
    // over the shared weights and packed weights: N extractors hold N sets of activations but one copy of the weights.
    // An extractor that runs in int8 or bf16 never asks for the fp32 packed weights.
    FeatureExtractor extractor(const std::string& layer = "") const;

    // Every label with its probability, highest first (ties: label order), for raw features
    // (and those of the mirrored image, averaged in, when not null).
    std::vector<LabelScore> scores_for(const float* features, const float* mirrored = nullptr) const;
    // Probabilities [count][labels] in label order for `count` images through `extractor` (one
    // made by extractor() with no layer), with the model's test-time augmentation: for flip,
    // each image's mirror goes through the network in the same batch.
    std::vector<float> probabilities(FeatureExtractor& extractor, const ImageRgb8* images, std::size_t count) const;
    // Every label with its probability per image, highest first, as probabilities() gives them.
    std::vector<std::vector<LabelScore>> classify(FeatureExtractor& extractor,
                                                  const std::vector<ImageRgb8>& images) const;

private:
    ClassifierModel model_;
    std::shared_ptr<const WeightFile> weights_;
    PackedCacheChoice cache_;
    struct Packed {
        std::mutex mutex;
        std::shared_ptr<const PackedWeights> weights;  // of weights_ for the active kernel table
    };
    // What packed_weights() gives, made or found in `packed`: also for extractors, which may
    // outlive this classifier.
    static const std::shared_ptr<const PackedWeights>& packed_weights(Packed& packed, const WeightFile& weights,
                                                                      const PackedCacheChoice& cache);
    std::shared_ptr<Packed> packed_ = std::make_shared<Packed>();
    std::string model_name_;
};

}  // namespace tinception
