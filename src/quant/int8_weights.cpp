// Per-output-channel symmetric quantization of OIHW fp32 weights into OHWI s8.
#include "quant/int8_weights.hpp"

#include <cmath>

namespace tinception {

Int8ConvWeights quantize_conv_weights(const Layer& conv, int in_c, int max_level, int stored_in_c) {
    const int out_c = conv.shape.c, kh = conv.kernel_h, kw = conv.kernel_w;
    const std::size_t per_channel = std::size_t(in_c) * std::size_t(kh) * std::size_t(kw);
    const std::size_t stored = std::size_t(stored_in_c) * std::size_t(kh) * std::size_t(kw);
    const float* w = conv.weights->data;
    Int8ConvWeights q;
    q.ohwi.assign(stored * std::size_t(out_c), 0);
    q.weight_scale.resize(std::size_t(out_c));
    q.level_sum.assign(std::size_t(out_c), 0.0f);
    for (int oc = 0; oc < out_c; ++oc) {
        const float* channel = w + std::size_t(oc) * per_channel;
        float max_abs = 0.0f;
        for (std::size_t k = 0; k < per_channel; ++k) max_abs = std::max(max_abs, std::fabs(channel[k]));
        const float scale = max_abs > 0.0f ? max_abs / float(max_level) : 1.0f;
        q.weight_scale[std::size_t(oc)] = scale;
        for (int ic = 0; ic < in_c; ++ic)
            for (int ky = 0; ky < kh; ++ky)
                for (int kx = 0; kx < kw; ++kx) {
                    const float v = std::nearbyint(channel[(std::size_t(ic) * kh + ky) * kw + kx] / scale);
                    const float clamped = std::min(std::max(v, -float(max_level)), float(max_level));
                    q.ohwi[std::size_t(oc) * stored + (std::size_t(ky) * kw + kx) * stored_in_c + ic] =
                        std::int8_t(clamped);
                    q.level_sum[std::size_t(oc)] += clamped;
                }
    }
    return q;
}

}  // namespace tinception
