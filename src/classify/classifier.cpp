// Classifier: model + weights + network, with the consistency checks between them.
#include "classify/classifier.hpp"

#include <algorithm>

#include "byte_io.hpp"
#include "error.hpp"
#include "weights/weight_file.hpp"

namespace tinception {

Classifier::Classifier(const std::string& model_path, const std::string& weights_path)
    : model_(load_classifier_model(model_path)),
      extractor_(weights_path.empty() ? model_.weights_path : weights_path, model_.feature_layer) {
    if (extractor_.weights_checksum() != model_.weights_checksum)
        throw Error(model_path + " was trained on weights with checksum " + hex32(model_.weights_checksum) + ", but " +
                    extractor_.weights().path() + " has " + hex32(extractor_.weights_checksum()));
    if (extractor_.feature_size() != model_.feature_size)
        throw Error(model_path + " expects " + std::to_string(model_.feature_size) + " features from layer '" +
                    model_.feature_layer + "', the network gives " + std::to_string(extractor_.feature_size()));
}

std::vector<LabelScore> Classifier::scores_for(const float* features) const {
    const std::vector<float> p = model_.predict(features);
    std::vector<LabelScore> scores;
    for (std::size_t i = 0; i < p.size(); ++i) scores.push_back({model_.labels[i], p[i]});
    std::stable_sort(scores.begin(), scores.end(),
                     [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
    return scores;
}

std::vector<std::vector<LabelScore>> Classifier::classify(const std::vector<ImageRgb8>& images) {
    const std::vector<float> features = extractor_.extract(images);
    std::vector<std::vector<LabelScore>> out;
    for (std::size_t i = 0; i < images.size(); ++i)
        out.push_back(scores_for(features.data() + i * std::size_t(model_.feature_size)));
    return out;
}

}  // namespace tinception
