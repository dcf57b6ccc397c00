// A trained model ready to classify: the model file, the weight file it was trained on
// (checked by checksum) and the network up to the model's feature layer.
#pragma once
#include <string>
#include <vector>

#include "image/image.hpp"
#include "model/feature_extractor.hpp"
#include "classify/classifier_model.hpp"

namespace tinception {

struct LabelScore {
    std::string label;
    float score = 0;
};

class Classifier {
public:
    // Loads the model, then the weights it names (or `weights_path` when not empty), and
    // refuses weights whose checksum differs from the one the model was trained on.
    explicit Classifier(const std::string& model_path, const std::string& weights_path = "");

    const ClassifierModel& model() const { return model_; }
    FeatureExtractor& extractor() { return extractor_; }

    // Per image, every label with its probability, highest first (ties: label order).
    std::vector<std::vector<LabelScore>> classify(const std::vector<ImageRgb8>& images);
    std::vector<LabelScore> scores_for(const float* features) const;

private:
    ClassifierModel model_;
    FeatureExtractor extractor_;
};

}  // namespace tinception
