// A trained classifier as one self-contained ONNX model: the network from the image tensor
// to the model's feature layer, the global average pool, the retrained layer and softmax.
//
// Input  `image`  float32 [N, size, size, 3], NHWC, RGB in [0, 1]: the image resized to
//                 size x size by bilinear interpolation (align_corners as the weights
//                 expect), then pixel * scale + offset (1/255 and 0 for the shipped weights).
// Output `scores` float32 [N, labels], softmax probabilities in label order.
// The labels, the resize and the scaling are also in the model's metadata_props.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "export/onnx_proto.hpp"
#include "classify/classifier_model.hpp"
#include "weights/layer_graph.hpp"
#include "weights/weight_file.hpp"

namespace tinception {

// The network the export reads: a checked layer graph, its tensors resolved, and where it
// came from: the weight file's graph (trunk_from_weights). A fine-tuned model's own
// convolutions (ClassifierModel::tuned) are written in place of the file's.
struct TrunkSource {
    std::string description;  // names the source in messages, e.g. the weight file's path
    const LayerGraph* graph = nullptr;
    std::map<std::string, std::string> metadata;  // the weight file's, for provenance
};
TrunkSource trunk_from_weights(const WeightFile& weights);

struct OnnxExportOptions {
    std::int64_t opset = kMinOpset;
    int batch = 0;  // 0: a symbolic batch dimension `N`; else that fixed batch size
};

// The model, its initialisers viewing `trunk`'s tensors and `model`'s head (both must
// outlive it). Only the layers the feature layer needs are exported. Throws Error naming
// the layer for ops or shapes ONNX export does not cover, and for a feature layer or
// preprocessing that does not match the network.
OnnxModel build_onnx_model(const ClassifierModel& model, const TrunkSource& trunk,
                           const OnnxExportOptions& options);

struct OnnxExportSummary {
    std::size_t nodes = 0, initializers = 0;
    std::uint64_t bytes = 0;
};

// Writes `onnx_model` to `path` through a temporary file, streaming initialiser values
// straight from where they live. With replace_existing false an existing `path` is refused.
OnnxExportSummary write_onnx_model(const OnnxModel& onnx_model, const std::string& path, bool replace_existing);

}  // namespace tinception
