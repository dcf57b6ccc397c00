// FeatureExtractor: the weight file, its preprocessing and a network, in small batches
// so memory stays bounded however many images come in.
#include "model/feature_extractor.hpp"

#include <algorithm>
#include <cmath>

#include "bf16/conv2d_bf16.hpp"
#include "error.hpp"
#include "finetune/fine_tuner.hpp"
#include "finetune/tuned_layers.hpp"
#include "kernel_dispatch.hpp"
#include "model/image_batches.hpp"
#include "model/network.hpp"
#include "quant/int8_network.hpp"
#include "weights/layer_graph.hpp"
#include "weights/weight_file.hpp"

namespace tinception {
namespace {


std::string metadata_or(const WeightFile& w, const std::string& key, const std::string& fallback) {
    const auto it = w.metadata().find(key);
    return it == w.metadata().end() ? fallback : it->second;
}

double number_from(const WeightFile& w, const std::string& key, const std::string& fallback) {
    const std::string text = metadata_or(w, key, fallback);
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !std::isfinite(value))
        throw Error(w.path() + ": metadata '" + key + "' is '" + text + "', not a number");
    return value;
}

}  // namespace

std::vector<std::string> split_layer_set(const std::string& layers) {
    std::vector<std::string> names;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = layers.find(',', start);
        const std::string name = layers.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (name.empty()) throw Error("layer list '" + layers + "' has an empty name");
        if (std::find(names.begin(), names.end(), name) != names.end())
            throw Error("layer list '" + layers + "' names '" + name + "' twice");
        names.push_back(name);
        if (comma == std::string::npos) return names;
        start = comma + 1;
    }
}

int layer_set_feature_size(const LayerGraph& graph, const std::string& layers) {
    int size = 0;
    for (const std::string& name : split_layer_set(layers)) {
        const int index = graph.index_of(name);
        if (index < 0) return -1;
        size += graph.layers()[std::size_t(index)].shape.c;
    }
    return size;
}

Preprocessing preprocessing_of(const WeightFile& w) {
    Preprocessing p;
    p.size = int(number_from(w, "input_size", "299"));
    p.scale = float(number_from(w, "input_scale", "0.00392156862745098"));
    p.offset = float(number_from(w, "input_offset", "0"));
    p.align_corners = metadata_or(w, "align_corners", "1") == "1";
    if (metadata_or(w, "resize", "bilinear") != "bilinear")
        throw Error(w.path() + ": resize method '" + metadata_or(w, "resize", "") + "' is not supported");
    return p;
}

// The data is checked when a network first packs (or quantizes) the weights, and not at all
// when it maps them from a packed cache built from checked data, as classifier.cpp opens them.
FeatureExtractor::FeatureExtractor(const std::string& weights_path, const std::string& layer)
    : FeatureExtractor(std::make_shared<const WeightFile>(WeightFile::open(weights_path, DataCheck::deferred)), layer) {}

FeatureExtractor::FeatureExtractor(std::shared_ptr<const WeightFile> weights, const std::string& layer)
    : FeatureExtractor(weights,
                       PackedWeightsSource{&active_kernels(),
                                           [weights] { return std::make_shared<const PackedWeights>(*weights, active_kernels()); }},
                       layer, TunedLayers{}) {}

FeatureExtractor::FeatureExtractor(std::shared_ptr<const WeightFile> weights,
                                   std::shared_ptr<const PackedWeights> packed, const std::string& layer)
    : FeatureExtractor(std::move(weights), std::move(packed), layer, TunedLayers{}) {}

FeatureExtractor::FeatureExtractor(std::shared_ptr<const WeightFile> weights,
                                   std::shared_ptr<const PackedWeights> packed, const std::string& layer,
                                   const TunedLayers& tuned)
    : FeatureExtractor(weights, PackedWeightsSource{&packed->table(), [packed] { return packed; }}, layer, tuned) {
    if (&packed->weights() != weights_.get())
        throw Error("packed weights of " + packed->weights().path() + " given for " + weights_->path(),
                    ErrorKind::internal);
}

FeatureExtractor::FeatureExtractor(std::shared_ptr<const WeightFile> weights, PackedWeightsSource packed,
                                   const std::string& layer, const TunedLayers& tuned)
    : weights_(std::move(weights)), packed_source_(std::move(packed)), preprocessing_(preprocessing_of(*weights_)) {
    // The deepest layer (last in graph order) ends the pass; an unknown one is refused by the
    // plan, with the names it knows.
    const std::vector<std::string> layers = split_layer_set(layer);
    std::string deepest = layers.front();
    for (const std::string& name : layers) {
        const int index = weights_->graph().index_of(name);
        if (index < 0 || index > weights_->graph().index_of(deepest)) deepest = name;
        if (index < 0) break;
    }
    if (!tuned.empty())
        tuned_ = tuned_span(tuned, weights_->graph(), layer, *packed_source_.table, "the model", weights_->path());
    network_end_ = tuned.empty() ? deepest : tuned.from;
    layer_ = layer;
    if (tuned_)
        fp32_pooled_ = tuned_->frozen_layers();
    else if (layers.size() > 1)
        fp32_pooled_ = layers;
    // What building the network would refuse, refused now: the pass, the pooled layers, the input.
    const NetworkPlan plan = plan_network(weights_->graph(), network_end_, weights_->path());
    const int pooled_size =
        fp32_pooled_.empty() ? plan.steps.back().layer->shape.c : pooled_offsets(plan, fp32_pooled_, weights_->path()).size;
    feature_size_ = tuned_ ? tuned_->feature_size() : pooled_size;
    const ActivationShape in = plan.steps.front().layer->shape;
    if (in.h != preprocessing_.size || in.w != preprocessing_.size || in.c != 3)
        throw Error(weights_->path() + ": input layer is " + std::to_string(in.h) + "x" + std::to_string(in.w) +
                    "x" + std::to_string(in.c) + ", expected " + std::to_string(preprocessing_.size) + "x" +
                    std::to_string(preprocessing_.size) + "x3 RGB");
}

FeatureExtractor::~FeatureExtractor() = default;
FeatureExtractor::FeatureExtractor(FeatureExtractor&&) noexcept = default;
FeatureExtractor& FeatureExtractor::operator=(FeatureExtractor&&) noexcept = default;

const std::string& FeatureExtractor::layer() const { return layer_; }
int FeatureExtractor::feature_size() const { return feature_size_; }
const Preprocessing& FeatureExtractor::preprocessing() const { return preprocessing_; }
std::uint32_t FeatureExtractor::weights_checksum() const { return weights_->checksum(); }
const WeightFile& FeatureExtractor::weights() const { return *weights_; }

const Network& FeatureExtractor::network() const {
    if (network_) return *network_;
    std::shared_ptr<const PackedWeights> packed = packed_source_.make();
    if (&packed->weights() != weights_.get() || &packed->table() != packed_source_.table)
        throw Error("packed weights of " + packed->weights().path() + " given for " + weights_->path(),
                    ErrorKind::internal);
    auto network = std::make_unique<Network>(std::move(packed), network_end_);
    if (!fp32_pooled_.empty()) network->pool_layers(fp32_pooled_);
    network_ = std::move(network);
    return *network_;
}

std::vector<float> FeatureExtractor::extract(const std::vector<ImageRgb8>& images) {
    std::vector<float> features(images.size() * std::size_t(feature_size()));
    extract(images.data(), images.size(), features.data());
    return features;
}

void FeatureExtractor::extract(const ImageRgb8* images, std::size_t count, float* features) {
    const std::size_t image_floats = std::size_t(preprocessing_.size) * preprocessing_.size * 3;
    input_.resize(image_floats * std::min(count, kNetworkBatch));
    for (std::size_t first = 0; first < count; first += kNetworkBatch) {
        const int n = int(std::min(kNetworkBatch, count - first));
        for (int i = 0; i < n; ++i) preprocess(images[first + i], preprocessing_, input_.data() + i * image_floats);
        run(input_.data(), n, features + first * feature_size());
    }
}

void FeatureExtractor::extract_with_mirrors(const ImageRgb8* images, std::size_t count, float* features,
                                            float* mirrored_features) {
    const std::size_t image_floats = std::size_t(preprocessing_.size) * preprocessing_.size * 3;
    const std::size_t f = std::size_t(feature_size());
    const std::size_t pairs_per_batch = kNetworkBatch / 2;
    const std::size_t batch = 2 * std::min(count, pairs_per_batch);
    input_.resize(image_floats * batch);
    std::vector<float> out(f * batch);
    for (std::size_t first = 0; first < count; first += pairs_per_batch) {
        const std::size_t n = std::min(pairs_per_batch, count - first);
        for (std::size_t i = 0; i < n; ++i) {
            preprocess(images[first + i], preprocessing_, input_.data() + 2 * i * image_floats);
            preprocess(mirrored_left_right(images[first + i]), preprocessing_, input_.data() + (2 * i + 1) * image_floats);
        }
        run(input_.data(), int(2 * n), out.data());
        for (std::size_t i = 0; i < n; ++i) {
            std::copy_n(out.data() + 2 * i * f, f, features + (first + i) * f);
            std::copy_n(out.data() + (2 * i + 1) * f, f, mirrored_features + (first + i) * f);
        }
    }
}

std::vector<float> FeatureExtractor::extract_preprocessed(const float* input, int n) {
    const std::size_t image_floats = std::size_t(preprocessing_.size) * preprocessing_.size * 3;
    std::vector<float> features(std::size_t(n) * feature_size());
    for (int first = 0; first < n; first += int(kNetworkBatch)) {
        const int count = std::min(int(kNetworkBatch), n - first);
        run(input + first * image_floats, count, features.data() + std::size_t(first) * feature_size());
    }
    return features;
}

void FeatureExtractor::use_int8(const ActivationRanges& ranges) { use_int8(ranges, PackedCacheChoice{false, {}}); }

void FeatureExtractor::use_int8(const ActivationRanges& ranges, const PackedCacheChoice& cache) {
    if (tuned_) throw Error("a model with fine-tuned layers runs in fp32 only; use --precision fp32");
    bf16_.reset();
    int8_ = std::make_unique<Int8Network>(*weights_, network_end_, ranges, active_int8_kernels(), cache);
    const std::vector<std::string> layers = split_layer_set(layer_);
    if (layers.size() > 1) int8_->pool_layers(layers);
    int8_ranges_ = ranges;
}

void FeatureExtractor::use_bf16() { use_bf16(PackedCacheChoice{false, {}}); }

void FeatureExtractor::use_bf16(const PackedCacheChoice& cache) {
    if (tuned_) throw Error("a model with fine-tuned layers runs in fp32 only; use --precision fp32");
    const kernels::KernelTable* table = kernels::avx512_bf16_kernels();
    if (!table) throw Error("--precision bf16 needs a CPU with AVX-512 BF16, which this one lacks");
    bf16_ = std::make_unique<Network>(PackedWeights::make(*weights_, *table, cache), network_end_);
    const std::vector<std::string> layers = split_layer_set(layer_);
    if (layers.size() > 1) bf16_->pool_layers(layers);
    int8_.reset();
    int8_ranges_.clear();
}

void FeatureExtractor::use_fp32() {
    int8_.reset();
    int8_ranges_.clear();
    bf16_.reset();
}

void FeatureExtractor::run(const float* input, int n, float* features) {
    if (int8_) return int8_->extract_features(input, n, features);
    if (bf16_) return bf16_->extract_features(input, n, features);
    network();  // built on the first fp32 run
    if (!tuned_) return network_->extract_features(input, n, features);
    const ActivationShape from = network_->output_shape();
    activations_.resize(std::size_t(n) * from.h * from.w * from.c);
    frozen_.resize(std::size_t(n) * std::size_t(tuned_->frozen_size()));
    network_->extract_activations(input, n, activations_.data(), frozen_.empty() ? nullptr : frozen_.data());
    tuned_->forward(activations_.data(), frozen_.data(), n, features);
}

}  // namespace tinception
