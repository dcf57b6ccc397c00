// One copy of the fold arithmetic for the converter and the 8-bit reader; see the header.
#include "weights/batch_norm_fold.hpp"

#include <cmath>

#include "error.hpp"

namespace tinception {

float dequantize_u8(std::uint8_t q, double scale, double min) { return float(min + scale * double(q)); }

void dequantize_u8(const std::uint8_t* q, std::size_t n, double scale, double min, float* out) {
    for (std::size_t i = 0; i < n; ++i) out[i] = dequantize_u8(q[i], scale, min);
}

void dequantize_u8_folded(const std::uint8_t* q, std::size_t per_channel, double scale, double min,
                          const std::vector<double>& k, std::size_t count, float* out) {
    float values[256];
    for (int v = 0; v < 256; ++v) values[v] = dequantize_u8(std::uint8_t(v), scale, min);
    if (k.empty()) {
        for (std::size_t i = 0; i < count; ++i) out[i] = values[q[i]];
        return;
    }
    float folded[256];
    for (std::size_t o = 0; o < k.size(); ++o) {
        // As fold_batch_norm_weights computes each weight; a table pays off past 256 weights.
        const bool table = per_channel > 256;
        if (table)
            for (int v = 0; v < 256; ++v) folded[v] = float(double(values[v]) * k[o]);
        const std::uint8_t* in = q + o * per_channel;
        float* to = out + o * per_channel;
        for (std::size_t j = 0; j < per_channel; ++j) to[j] = table ? folded[in[j]] : float(double(values[in[j]]) * k[o]);
    }
}

std::vector<double> batch_norm_factors(const float* gamma, const float* variance, std::size_t channels,
                                       double epsilon, const std::string& who) {
    std::vector<double> k(channels);
    for (std::size_t o = 0; o < channels; ++o) {
        if (!(double(variance[o]) + epsilon > 0.0))
            throw Error(who + " has a non-positive variance + epsilon in channel " + std::to_string(o));
        k[o] = double(gamma ? gamma[o] : 1.0f) / std::sqrt(double(variance[o]) + epsilon);
    }
    return k;
}

void fold_batch_norm_weights(float* weights, std::size_t per_channel, const std::vector<double>& k) {
    for (std::size_t o = 0; o < k.size(); ++o)
        for (std::size_t j = 0; j < per_channel; ++j) {
            float& w = weights[o * per_channel + j];
            w = float(double(w) * k[o]);
        }
}

void fold_batch_norm_bias(float* bias, const float* beta, const float* mean, const std::vector<double>& k) {
    for (std::size_t o = 0; o < k.size(); ++o)
        bias[o] = float(double(beta ? beta[o] : 0.0f) + (double(bias[o]) - double(mean[o])) * k[o]);
}

}  // namespace tinception
