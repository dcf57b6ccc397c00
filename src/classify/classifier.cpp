// Classifier: the model file and its weights, checked against each other once, and the
// scores the head gives for the features a FeatureExtractor computes.
#include "classify/classifier.hpp"

#include <algorithm>
#include <cstdio>

#include "bf16/conv2d_bf16.hpp"
#include "byte_io.hpp"
#include "error.hpp"
#include "image/preprocess.hpp"
#include "kernel_dispatch.hpp"
#include "weights/layer_graph.hpp"
#include "weights/weight_file.hpp"

namespace tinception {
namespace {

std::string describe(const Preprocessing& p) {
    char text[160];
    std::snprintf(text, sizeof text, "%dx%d input, pixel * %.9g + %.9g, align_corners %s", p.size, p.size,
                  double(p.scale), double(p.offset), p.align_corners ? "on" : "off");
    return text;
}

bool same(const Preprocessing& a, const Preprocessing& b) {
    return a.size == b.size && a.scale == b.scale && a.offset == b.offset && a.align_corners == b.align_corners;
}

}  // namespace

Classifier Classifier::open(const std::string& model_path, const std::string& weights_path,
                            const PackedCacheChoice& cache) {
    ClassifierModel model = load_classifier_model(model_path);
    const std::string path = weights_path.empty() ? recorded_weights_location(model_path, model) : weights_path;
    auto weights = std::make_shared<const WeightFile>(WeightFile::open(path, DataCheck::deferred));
    return Classifier(std::move(model), std::move(weights), model_path, cache);
}

Classifier::Classifier(ClassifierModel model, std::shared_ptr<const WeightFile> weights, const std::string& model_name,
                       const PackedCacheChoice& cache)
    : model_(std::move(model)), weights_(std::move(weights)), cache_(cache), model_name_(model_name) {
    if (weights_->checksum() != model_.weights_checksum)
        throw Error(model_name_ + " was trained on weights with checksum " + hex32(model_.weights_checksum) +
                    ", but " + weights_->path() + " has " + hex32(weights_->checksum()) +
                    "; pass --weights FILE with the weights it was trained on");
    const int feature_size = layer_set_feature_size(weights_->graph(), model_.feature_layer);
    if (feature_size < 0)
        throw Error(model_name_ + " uses layer '" + model_.feature_layer + "', which " + weights_->path() +
                    " does not have");
    if (feature_size != model_.feature_size)
        throw Error(model_name_ + " expects " + std::to_string(model_.feature_size) + " features from layer '" +
                    model_.feature_layer + "', " + weights_->path() + " gives " + std::to_string(feature_size));
    check_tuned_layers(model_.tuned, weights_->graph(), model_.feature_layer, model_name_, weights_->path());
    const Preprocessing input = preprocessing_of(*weights_);
    if (!same(input, model_.preprocessing))
        throw Error(model_name_ + " was trained with preprocessing " + describe(model_.preprocessing) + ", but " +
                    weights_->path() + " says " + describe(input) + "; retrain the model on these weights");
}

const std::shared_ptr<const PackedWeights>& Classifier::packed_weights() const {
    return packed_weights(*packed_, *weights_, cache_);
}

const std::shared_ptr<const PackedWeights>& Classifier::packed_weights(Packed& packed, const WeightFile& weights,
                                                                       const PackedCacheChoice& cache) {
    const std::lock_guard<std::mutex> lock(packed.mutex);
    if (!packed.weights) packed.weights = PackedWeights::make(weights, active_kernels(), cache);
    return packed.weights;
}

bool Classifier::has_layer(const std::string& layer) const {
    return layer_set_feature_size(weights_->graph(), layer) >= 0;
}

FeatureExtractor Classifier::extractor(const std::string& layer) const {
    if (layer.empty() || layer == model_.feature_layer) {  // the model's features: tuned layers, int8 and all
        PackedWeightsSource fp32{&active_kernels(), [packed = packed_, weights = weights_, cache = cache_] {
                                     return packed_weights(*packed, *weights, cache);
                                 }};
        FeatureExtractor e(weights_, std::move(fp32), model_.feature_layer, model_.tuned);
        if (!model_.int8_ranges.empty()) e.use_int8(model_.int8_ranges, cache_);
        // bf16 features where the CPU computes them; elsewhere fp32's, within a cosine of
        // 0.9995 of them (README), rather than no answer at all.
        if (model_.bf16_features && kernels::avx512_bf16_kernels()) e.use_bf16(cache_);
        return e;
    }
    return FeatureExtractor(weights_, packed_weights(), layer);
}

namespace {

std::vector<LabelScore> sorted_scores(const std::vector<std::string>& labels, const float* p) {
    std::vector<LabelScore> scores;
    for (std::size_t i = 0; i < labels.size(); ++i) scores.push_back({labels[i], p[i]});
    std::stable_sort(scores.begin(), scores.end(),
                     [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
    return scores;
}

}  // namespace

std::vector<LabelScore> Classifier::scores_for(const float* features, const float* mirrored) const {
    return sorted_scores(model_.labels, model_.predict(features, mirrored).data());
}

std::vector<float> Classifier::probabilities(FeatureExtractor& extractor, const ImageRgb8* images,
                                             std::size_t count) const {
    if (extractor.layer() != model_.feature_layer)
        throw Error("an extractor for layer '" + extractor.layer() + "' cannot feed a classifier trained on '" +
                    model_.feature_layer + "'", ErrorKind::internal);
    const bool flip = model_.augmentation == TestTimeAugmentation::flip;
    const std::size_t f = std::size_t(model_.feature_size);
    std::vector<float> features(count * f * (flip ? 2 : 1));
    if (flip)
        extractor.extract_with_mirrors(images, count, features.data(), features.data() + count * f);
    else
        extractor.extract(images, count, features.data());
    std::vector<float> out;
    out.reserve(count * model_.labels.size());
    for (std::size_t i = 0; i < count; ++i) {
        const std::vector<float> p = model_.predict(features.data() + i * f, flip ? features.data() + (count + i) * f : nullptr);
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

std::vector<std::vector<LabelScore>> Classifier::classify(FeatureExtractor& extractor,
                                                          const std::vector<ImageRgb8>& images) const {
    const std::vector<float> p = probabilities(extractor, images.data(), images.size());
    std::vector<std::vector<LabelScore>> out;
    for (std::size_t i = 0; i < images.size(); ++i)
        out.push_back(sorted_scores(model_.labels, p.data() + i * model_.labels.size()));
    return out;
}

}  // namespace tinception
