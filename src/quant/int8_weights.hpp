// A conv2d layer's folded fp32 weights as s8: one symmetric scale per output channel, so that
// w[oc][...] ~= q[oc][...] * weight_scale[oc] with |q| <= kInt8WeightMax. This is where the
// weights' rounding enters: q = nearbyint(w / weight_scale), half to even, once at build.
#pragma once
#include <cstdint>
#include <vector>

#include "weights/layer_graph.hpp"

namespace tinception {

struct Int8ConvWeights {
    std::vector<std::int8_t> ohwi;    // [out_c][kernel_h][kernel_w][in_c], the int8 kernels' order
    std::vector<float> weight_scale;  // [out_c]; max|w[oc]| / kInt8WeightMax (1 for an all-zero channel)
};

// `in_c` is the layer's input channel count; `max_level` the largest |q| (kInt8WeightMax for
// the AVX2 kernels; 127 lets the reference measure what the seventh bit costs).
Int8ConvWeights quantize_conv_weights(const Layer& conv, int in_c, int max_level);

}  // namespace tinception
