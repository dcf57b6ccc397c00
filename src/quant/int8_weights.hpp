// A conv2d layer's folded fp32 weights as s8: one symmetric scale per output channel, so that
// w[oc][...] ~= q[oc][...] * weight_scale[oc] with |q| <= max_level. A channel whose weights
// all lie on a grid of at most max_level steps either side of zero keeps that grid, exactly:
// the 8-bit weight file's levels (uint8 with an integral zero point, as the source model's
// conv tensors all have) times its scale and the batch-norm factor, read from the float values alone, so a float32 file of the
// same weights gives the same s8. Any other channel is where the weights' rounding enters:
// weight_scale = max|w| / max_level, q = nearbyint(w / weight_scale), half to even, once at build.
#pragma once
#include <cstdint>
#include <vector>

#include "weights/layer_graph.hpp"

namespace tinception {

struct Int8ConvWeights {
    std::vector<std::int8_t> ohwi;    // [out_c][kernel_h][kernel_w][stored_in_c], the int8 kernels' order
    std::vector<float> weight_scale;  // [out_c]; max|w[oc]| / max_level (1 for an all-zero channel)
    std::vector<float> level_sum;     // [out_c]; the sum of the channel's q (exact in a float)
};

// `in_c` is the layer's input channel count; `max_level` the largest |q|: the weight_max of
// the int8 table that will run them (127, or 63 for avx2_7bit). Each kernel cell holds
// `stored_in_c` >= in_c channels, zero past in_c (the RGB input is read as quads).
Int8ConvWeights quantize_conv_weights(const Layer& conv, int in_c, int max_level, int stored_in_c);
inline Int8ConvWeights quantize_conv_weights(const Layer& conv, int in_c, int max_level) {
    return quantize_conv_weights(conv, in_c, max_level, in_c);
}

// What int8 computes with, back in the layer's OIHW float order: q * weight_scale for each
// of `q`'s weights, quantized from `conv` with `in_c` input channels (the padding of a stored
// quad dropped).
std::vector<float> int8_weight_values(const Int8ConvWeights& q, const Layer& conv, int in_c);

}  // namespace tinception
