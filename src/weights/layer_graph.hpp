// The weight file's layer list as a checked, typed graph: ops as an enum, attributes as
// numbers, tensors resolved and every layer's output shape inferred. This is the one place
// the graph is validated; the network's planner and executor rely on it and check nothing.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "weights/weight_file.hpp"

namespace tinception {

enum class LayerOp { input, conv2d, maxpool2d, avgpool2d, concat, flatten, dense };
enum class DenseActivation { linear, relu, softmax };

const char* op_name(LayerOp op);  // as written in the file: "conv2d", "maxpool2d", ...
std::string dims_text(const std::vector<std::int64_t>& dims);  // "3x16x1x1", or "a scalar"

// One image's activation, NHWC: h rows of w pixels of c channels.
struct ActivationShape {
    int h = 0, w = 0, c = 0;
};

// Limits that keep every size and index the executor computes inside an int.
inline constexpr std::int64_t kMaxExtent = 1 << 16;               // heights, widths, kernels, strides, input channels
inline constexpr std::int64_t kMaxActivationFloats = 1 << 28;     // one layer's output for one image (1 GiB)

struct Layer {
    std::string name;
    LayerOp op = LayerOp::input;
    std::vector<int> inputs;  // indices of earlier layers, in order
    ActivationShape shape;    // output, per image
    // conv2d and pooling: window and the leading padding 'same' or 'valid' gives
    int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
    bool relu = false;                                    // conv2d
    DenseActivation activation = DenseActivation::linear;  // dense
    const TensorRef* weights = nullptr;                   // conv2d: OIHW; dense: [out][in]
    const TensorRef* bias = nullptr;                      // [out channels]
};

class LayerGraph {
public:
    using TensorLookup = std::function<const TensorRef*(const std::string& name)>;  // nullptr: absent

    LayerGraph() = default;
    // Checks each layer in order: op, input count and order, attributes and their ranges,
    // tensors and their shapes against the inferred input shape, window fit, concat sizes,
    // a single input layer. Throws Error "<path>: layer '<name>' (<op>) <what>" on the first problem.
    static LayerGraph checked(const std::vector<LayerSpec>& specs, const TensorLookup& tensor,
                              const std::string& path);

    const std::vector<Layer>& layers() const { return layers_; }
    int index_of(const std::string& name) const;  // -1 when absent
    // The layers `output` depends on, itself included, in graph (topological) order.
    std::vector<int> needed_for(int output) const;

private:
    std::vector<Layer> layers_;
};

}  // namespace tinception
