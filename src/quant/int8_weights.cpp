// Per-output-channel symmetric quantization of OIHW fp32 weights into OHWI s8, on the
// weights' own grid of levels where they have one.
#include "quant/int8_weights.hpp"

#include <cmath>

namespace tinception {

namespace {

// How far from a whole number of steps a weight may be and still count as on the grid: the
// float rounding of expanding and folding moves a level n by |n| x a few 1e-8, and a weight
// off the grid by chance lands this close with odds of 1 in 500.
constexpr float kOnGrid = 1e-3f;

// The coarsest step with every weight of the channel a whole number n of steps, |n| <= max_level,
// or 0 when there is none. Weights expanded from 8-bit levels with an integral zero point
// (value = scale x (q - zero point), as in every conv tensor of the source model) and folded
// with a batch-norm factor lie on such a grid: step = scale x factor, n = q - zero point. The largest
// |w| is then the largest |n| steps, so the candidates are max|w| / n for n = 1, 2, ...;
// a wrong one fails at once on nearly every channel.
float exact_step(const float* w, std::size_t count, float max_abs, int max_level) {
    for (int levels = 1; levels <= max_level; ++levels) {
        const float step = max_abs / float(levels);
        std::size_t k = 0;
        for (; k < count; ++k) {
            const float n = w[k] / step;
            if (!(std::fabs(n - std::nearbyint(n)) <= kOnGrid)) break;
        }
        if (k == count) return step;
    }
    return 0.0f;
}

}  // namespace

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
        const float grid = max_abs > 0.0f ? exact_step(channel, per_channel, max_abs, max_level) : 0.0f;
        const float scale = grid > 0.0f ? grid : max_abs > 0.0f ? max_abs / float(max_level) : 1.0f;
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

std::vector<float> int8_weight_values(const Int8ConvWeights& q, const Layer& conv, int in_c) {
    const std::size_t out_c = std::size_t(conv.shape.c), cells = std::size_t(conv.kernel_h) * std::size_t(conv.kernel_w);
    const std::size_t stored_in_c = q.ohwi.size() / (out_c * cells);
    std::vector<float> values(out_c * std::size_t(in_c) * cells);
    for (std::size_t oc = 0; oc < out_c; ++oc)
        for (std::size_t ic = 0; ic < std::size_t(in_c); ++ic)
            for (std::size_t cell = 0; cell < cells; ++cell)
                values[(oc * std::size_t(in_c) + ic) * cells + cell] =
                    float(q.ohwi[(oc * cells + cell) * stored_in_c + ic]) * q.weight_scale[oc];
    return values;
}

}  // namespace tinception
