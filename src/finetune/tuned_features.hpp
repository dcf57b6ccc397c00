// The features a fine-tuned head reads: a layer set ("mixed5,mixed7", or one layer) above a
// frozen layer FROM. Each layer of the set after FROM is pooled from a span (span_backprop.hpp)
// running from FROM up to the deepest of them; each at or before FROM is frozen, its pooled
// values handed in beside FROM's activations. Side by side in set order, as the frozen
// network puts them; optionally standardised, and backward() takes the gradient of what
// forward() gave back into every pooled block of the span.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "classify/feature_standardization.hpp"
#include "finetune/span_backprop.hpp"

namespace tinception {

class TunedFeatures {
public:
    // Throws Error naming the layer when a layer of the set is missing or cannot be reached
    // from FROM, or when every layer of the set is at or before FROM (nothing to tune).
    TunedFeatures(const LayerGraph& graph, const std::string& from, const std::string& layer_set,
                  const kernels::KernelTable& forward_table, const kernels::BackwardKernelTable& backward_table);

    SpanBackprop& span() { return span_; }
    const SpanBackprop& span() const { return span_; }
    const ActivationShape& input_shape() const { return span_.input_shape(); }  // FROM's, per image
    int feature_size() const { return feature_size_; }
    // The frozen layers of the set (set order) and their pooled values per image, side by side.
    const std::vector<std::string>& frozen_layers() const { return frozen_layers_; }
    int frozen_size() const { return frozen_size_; }

    // Applied to forward()'s features and taken into backward()'s gradient; empty: raw.
    FeatureStandardization standardization;

    // features[n][feature_size()] for n images of FROM's activations and their frozen pooled
    // values (frozen[n][frozen_size()], may be null when frozen_size() is 0). `activations`
    // must stay unchanged until backward() has run.
    void forward(const float* activations, const float* frozen, int n, float* features);
    // dL/d(features of the last forward()), [n][feature_size()]: fills the span's gradients.
    void backward(const float* grad_features);

private:
    struct Part {
        int offset = 0, channels = 0;
        int frozen_offset = -1;  // >= 0: a frozen layer's columns in `frozen`
        int tap = -1;            // >= 0: the span's tap; -1 and not frozen: the span's output
    };

    SpanBackprop span_;
    std::vector<Part> parts_;
    std::vector<std::string> frozen_layers_;
    int frozen_size_ = 0, feature_size_ = 0;
    int n_ = 0;
    std::vector<float> pooled_, grad_pooled_, grad_top_;
    std::vector<std::vector<float>> grad_taps_;
};

// The span TunedFeatures trains for `layer_set` above `from`: from FROM to the deepest layer
// of the set after it, tapping the others after it. Throws as TunedFeatures does.
struct TunedSpanLayers {
    std::string to;
    std::vector<std::string> taps, frozen;
};
TunedSpanLayers tuned_span_layers(const LayerGraph& graph, const std::string& from, const std::string& layer_set);

}  // namespace tinception
