// TunedFeatures: the span's pooled layers and the frozen ones side by side; see tuned_features.hpp.
#include "finetune/tuned_features.hpp"

#include <algorithm>

#include "error.hpp"
#include "model/feature_extractor.hpp"

namespace tinception {

TunedSpanLayers tuned_span_layers(const LayerGraph& graph, const std::string& from, const std::string& layer_set) {
    const int first = graph.index_of(from);
    if (first < 0) throw Error("no layer named '" + from + "' to fine-tune from");
    const std::vector<int> frozen = graph.needed_for(first);
    TunedSpanLayers s;
    int deepest = -1;
    for (const std::string& name : split_layer_set(layer_set)) {
        const int index = graph.index_of(name);
        if (index < 0) throw Error("no layer named '" + name + "' to fine-tune up to");
        if (std::find(frozen.begin(), frozen.end(), index) != frozen.end()) {
            s.frozen.push_back(name);
        } else if (index > deepest) {
            if (deepest >= 0) s.taps.push_back(s.to);
            deepest = index, s.to = name;
        } else {
            s.taps.push_back(name);
        }
    }
    if (deepest < 0)
        throw Error("every layer of '" + layer_set + "' is '" + from + "' or comes before it: nothing to fine-tune");
    return s;
}

TunedFeatures::TunedFeatures(const LayerGraph& graph, const std::string& from, const std::string& layer_set,
                             const kernels::KernelTable& forward_table,
                             const kernels::BackwardKernelTable& backward_table)
    : span_(graph, from, tuned_span_layers(graph, from, layer_set).to, forward_table, backward_table,
            tuned_span_layers(graph, from, layer_set).taps) {
    const TunedSpanLayers s = tuned_span_layers(graph, from, layer_set);
    frozen_layers_ = s.frozen;
    for (const std::string& name : split_layer_set(layer_set)) {
        Part part;
        part.offset = feature_size_;
        part.channels = graph.layers()[std::size_t(graph.index_of(name))].shape.c;
        const auto frozen = std::find(s.frozen.begin(), s.frozen.end(), name);
        const auto tap = std::find(s.taps.begin(), s.taps.end(), name);
        if (frozen != s.frozen.end()) {
            part.frozen_offset = frozen_size_;
            frozen_size_ += part.channels;
        } else if (tap != s.taps.end()) {
            part.tap = int(tap - s.taps.begin());
        }
        feature_size_ += part.channels;
        parts_.push_back(part);
    }
    grad_taps_.resize(s.taps.size());
}

void TunedFeatures::forward(const float* activations, const float* frozen, int n, float* features) {
    span_.forward(activations, n);
    n_ = n;
    const std::size_t f = std::size_t(feature_size_);
    for (const Part& part : parts_) {
        const std::size_t c = std::size_t(part.channels);
        if (part.frozen_offset >= 0) {
            for (int b = 0; b < n; ++b)
                std::copy_n(frozen + std::size_t(b) * std::size_t(frozen_size_) + std::size_t(part.frozen_offset), c,
                            features + std::size_t(b) * f + std::size_t(part.offset));
            continue;
        }
        const ActivationShape& s = part.tap >= 0 ? span_.tap_shape(std::size_t(part.tap)) : span_.output_shape();
        const float* out = part.tap >= 0 ? span_.tap_output(std::size_t(part.tap)) : span_.output();
        pooled_.resize(std::size_t(n) * c);
        span_.forward_table().global_avgpool(out, pooled_.data(), n, s.h, s.w, s.c);
        for (int b = 0; b < n; ++b)
            std::copy_n(pooled_.data() + std::size_t(b) * c, c, features + std::size_t(b) * f + std::size_t(part.offset));
    }
    if (!standardization.empty()) standardization.apply(features, std::size_t(n));
}

void TunedFeatures::backward(const float* grad_features) {
    const std::size_t f = std::size_t(feature_size_), n = std::size_t(n_);
    std::vector<const float*> taps(grad_taps_.size(), nullptr);
    for (const Part& part : parts_) {
        if (part.frozen_offset >= 0) continue;
        const std::size_t c = std::size_t(part.channels);
        grad_pooled_.resize(n * c);
        for (std::size_t b = 0; b < n; ++b)
            for (std::size_t k = 0; k < c; ++k) {
                const std::size_t column = std::size_t(part.offset) + k;
                const float g = grad_features[b * f + column];
                grad_pooled_[b * c + k] = standardization.empty() ? g : g / standardization.sd[column];
            }
        const ActivationShape& s = part.tap >= 0 ? span_.tap_shape(std::size_t(part.tap)) : span_.output_shape();
        std::vector<float>& spatial = part.tap >= 0 ? grad_taps_[std::size_t(part.tap)] : grad_top_;
        spatial.resize(n * std::size_t(s.h) * s.w * s.c);
        span_.backward_table().global_avgpool_backward(grad_pooled_.data(), spatial.data(), n_, s.h, s.w, s.c, false);
        if (part.tap >= 0) taps[std::size_t(part.tap)] = spatial.data();
    }
    span_.backward(grad_top_.data(), taps);
}

}  // namespace tinception
