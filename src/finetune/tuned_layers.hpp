// The fine-tuned convolutions a model carries: which frozen layer the span starts after, and
// each convolution's weights and bias, to run in place of the weight file's. Their section of
// the model file, and the check that they fit the weights and the feature layer at hand.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "byte_io.hpp"
#include "finetune/tuned_features.hpp"

namespace tinception {

struct TunedLayers {
    std::string from;                          // the frozen layer the span reads; empty: nothing tuned
    std::vector<TrainableConv> convolutions;   // in the span's order; gradients unused
    bool empty() const { return from.empty(); }
    // "mixed6..mixed7 (20 convolutions, after mixed5)", for info and messages
    std::string describe(const std::string& feature_layer) const;
};

// In the model file: str from; u32 count K (0 when from is empty); K times: str name,
// u32 weight count, u32 bias count, the weights (f32, OIHW), the bias (f32).
void write_tuned_layers(ByteWriter& w, const TunedLayers& tuned);
TunedLayers read_tuned_layers(ByteReader& r, const std::string& name);

// Throws Error naming `model_name` unless `tuned` holds exactly the convolutions of the span
// from tuned.from to `feature_layer` (a layer or a layer set) of `graph`, each of the file's sizes.
void check_tuned_layers(const TunedLayers& tuned, const LayerGraph& graph, const std::string& feature_layer,
                        const std::string& model_name, const std::string& weights_name);

// The features of `feature_layer` above tuned.from on `forward_table`, the span running the
// tuned weights (raw, not standardised); throws as check_tuned_layers.
std::unique_ptr<TunedFeatures> tuned_span(const TunedLayers& tuned, const LayerGraph& graph,
                                         const std::string& feature_layer, const kernels::KernelTable& forward_table,
                                         const std::string& model_name, const std::string& weights_name);

}  // namespace tinception
