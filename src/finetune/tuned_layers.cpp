// Reading, writing and checking a model's fine-tuned convolutions; see tuned_layers.hpp.
#include "finetune/tuned_layers.hpp"

#include <memory>

#include "error.hpp"

namespace tinception {
namespace {

constexpr std::size_t kMaxName = 1 << 16;
constexpr std::uint32_t kMaxConvolutions = 1 << 12;
constexpr std::uint32_t kMaxFloats = 1 << 26;

}  // namespace

std::string TunedLayers::describe(const std::string& feature_layer) const {
    if (empty()) return "none";
    return "up to " + feature_layer + " (" + std::to_string(convolutions.size()) + " convolutions, after " + from + ")";
}

void write_tuned_layers(ByteWriter& w, const TunedLayers& tuned) {
    w.string(tuned.from);
    w.u32(tuned.empty() ? 0 : std::uint32_t(tuned.convolutions.size()));
    if (tuned.empty()) return;
    for (const TrainableConv& c : tuned.convolutions) {
        w.string(c.name);
        w.u32(std::uint32_t(c.weights.size()));
        w.u32(std::uint32_t(c.bias.size()));
        w.floats(c.weights.data(), c.weights.size());
        w.floats(c.bias.data(), c.bias.size());
    }
}

TunedLayers read_tuned_layers(ByteReader& r, const std::string& name) {
    TunedLayers tuned;
    tuned.from = r.string(kMaxName);
    const std::uint32_t count = r.u32();
    if (count > kMaxConvolutions || (tuned.empty() != (count == 0)))
        throw Error(name + ": classifier file has " + std::to_string(count) + " tuned convolutions after '" +
                    tuned.from + "'; corrupt");
    for (std::uint32_t i = 0; i < count; ++i) {
        TrainableConv c;
        c.name = r.string(kMaxName);
        const std::uint32_t weights = r.u32(), bias = r.u32();
        if (weights > kMaxFloats || bias > kMaxFloats || std::size_t(weights) + bias > r.remaining() / 4)
            throw Error(name + ": classifier file's tuned layer '" + c.name + "' is truncated or corrupt");
        c.weights.resize(weights);
        c.bias.resize(bias);
        r.floats(c.weights.data(), weights);
        r.floats(c.bias.data(), bias);
        tuned.convolutions.push_back(std::move(c));
    }
    return tuned;
}

std::unique_ptr<TunedFeatures> tuned_span(const TunedLayers& tuned, const LayerGraph& graph,
                                         const std::string& feature_layer, const kernels::KernelTable& forward_table,
                                         const std::string& model_name, const std::string& weights_name) {
    std::unique_ptr<TunedFeatures> features;
    try {
        features = std::make_unique<TunedFeatures>(graph, tuned.from, feature_layer, forward_table,
                                                   kernels::reference_backward_kernels());
    } catch (const Error& e) {
        throw Error(model_name + " fine-tunes the layers after '" + tuned.from + "' up to '" + feature_layer +
                    "', which " + weights_name + " cannot run: " + e.what());
    }
    std::vector<TrainableConv>& convs = features->span().convolutions();
    if (convs.size() != tuned.convolutions.size())
        throw Error(model_name + " holds " + std::to_string(tuned.convolutions.size()) +
                    " tuned convolutions, but the layers after '" + tuned.from + "' up to '" + feature_layer +
                    "' in " + weights_name + " have " + std::to_string(convs.size()));
    for (std::size_t i = 0; i < convs.size(); ++i) {
        const TrainableConv& t = tuned.convolutions[i];
        if (convs[i].name != t.name || convs[i].weights.size() != t.weights.size() ||
            convs[i].bias.size() != t.bias.size())
            throw Error(model_name + ": tuned convolution '" + t.name + "' (" + std::to_string(t.weights.size()) +
                        " weights) does not match '" + convs[i].name + "' of " + weights_name + " (" +
                        std::to_string(convs[i].weights.size()) + " weights)");
        convs[i].weights = t.weights;
        convs[i].bias = t.bias;
    }
    return features;
}

void check_tuned_layers(const TunedLayers& tuned, const LayerGraph& graph, const std::string& feature_layer,
                        const std::string& model_name, const std::string& weights_name) {
    if (!tuned.empty())
        tuned_span(tuned, graph, feature_layer, kernels::reference_kernels(), model_name, weights_name);
}

}  // namespace tinception
