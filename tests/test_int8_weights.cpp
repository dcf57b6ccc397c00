// int8's weights (quant/int8_weights.cpp): a channel expanded from 8-bit levels with an
// integral zero point and folded with a batch-norm factor, as the 8-bit weight file expands
// its tensors, gets those levels back exactly; a channel on no such grid, or one whose levels
// reach past the table's largest, is rounded to max|w| / max_level steps.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "quant/int8_weights.hpp"
#include "weights/batch_norm_fold.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;

namespace {

// A 3x3 conv of `in_c` -> `out_c` over OIHW `values` (the layer points into them).
struct ConvFixture {
    std::vector<float> values;
    TensorRef tensor;
    Layer layer;

    ConvFixture(int in_c, int out_c, std::vector<float> v) : values(std::move(v)) {
        tensor.name = "conv/weights";
        tensor.dims = {out_c, in_c, 3, 3};
        tensor.count = values.size();
        tensor.data = values.data();
        layer.name = "conv";
        layer.op = LayerOp::conv2d;
        layer.kernel_h = layer.kernel_w = 3;
        layer.shape = {5, 5, out_c};
        layer.weights = &tensor;
    }
    std::size_t per_channel() const { return values.size() / std::size_t(layer.shape.c); }
};

// The level of OIHW weight `k` of channel `oc` in the s8 OHWI layout.
int level(const Int8ConvWeights& q, int in_c, int oc, std::size_t k) {
    const std::size_t ic = k / 9, cell = k % 9;
    return q.ohwi[std::size_t(oc) * 9 * std::size_t(in_c) + cell * std::size_t(in_c) + ic];
}

// Weights as the 8-bit file expands them: uint8 levels q, value scale * (q - zero_point)
// (min = -zero_point * scale), each channel times its own batch-norm factor.
std::vector<float> folded_levels(const std::vector<std::uint8_t>& q, int out_c, double scale, int zero_point,
                                 const std::vector<double>& factors) {
    std::vector<float> values(q.size());
    dequantize_u8_folded(q.data(), q.size() / std::size_t(out_c), scale, -zero_point * scale, factors, q.size(),
                         values.data());
    return values;
}

}  // namespace

TEST_CASE("int8 weights: levels with an integral zero point, folded, come back exactly") {
    const int in_c = 7, out_c = 6, zero_point = 128;
    const std::size_t per = std::size_t(in_c) * 9;
    std::mt19937 rng(3);
    std::vector<std::uint8_t> q(per * out_c);
    for (int oc = 0; oc < out_c; ++oc) {
        // Channel oc's levels span [zero_point - low, zero_point + high], both ends present.
        const int low = 128 - 20 * oc % 90, high = 127 - 17 * oc % 80;
        std::uniform_int_distribution<int> pick(zero_point - low, zero_point + high);
        for (std::size_t k = 0; k < per; ++k) q[oc * per + k] = std::uint8_t(pick(rng));
        q[oc * per + 3] = std::uint8_t(zero_point - low);
        q[oc * per + 11] = std::uint8_t(zero_point + high);
    }
    const double scale = 0.0037;
    const std::vector<double> factors = {0.91, 1.73, 0.0042, 12.5, 1.0, 0.377};
    ConvFixture f(in_c, out_c, folded_levels(q, out_c, scale, zero_point, factors));
    const Int8ConvWeights w = quantize_conv_weights(f.layer, in_c, 127);
    for (int oc = 0; oc < out_c; ++oc) {
        CAPTURE(oc);
        const bool fits = 128 - 20 * oc % 90 <= 127;  // the channel's lowest level, -low, fits s8
        float largest_error = 0.0f, level_sum = 0.0f;
        int mismatches = 0;
        for (std::size_t k = 0; k < per; ++k) {
            const int expected = int(q[oc * per + k]) - zero_point;
            const int got = level(w, in_c, oc, k);
            mismatches += got != expected;
            level_sum += float(got);
            largest_error = std::max(largest_error, std::fabs(float(got) * w.weight_scale[oc] - f.values[oc * per + k]));
        }
        CHECK(level_sum == w.level_sum[std::size_t(oc)]);
        if (fits) {
            CHECK(mismatches == 0);
            CHECK(w.weight_scale[std::size_t(oc)] == doctest::Approx(scale * factors[std::size_t(oc)]).epsilon(1e-6));
            CHECK(largest_error <= 1e-6f * w.weight_scale[std::size_t(oc)] * 128.0f);
        } else {  // -128 needs the level past 127: rounded to max|w| / 127 instead
            const float max_abs = float(128 * scale * factors[std::size_t(oc)]);
            CHECK(w.weight_scale[std::size_t(oc)] == doctest::Approx(max_abs / 127.0f).epsilon(1e-6));
            CHECK(mismatches > 0);
        }
    }
}

TEST_CASE("int8 weights: the table's largest level bounds the grid (7-bit weights)") {
    const int in_c = 3, out_c = 2, zero_point = 100;
    const std::size_t per = std::size_t(in_c) * 9;
    std::vector<std::uint8_t> q(per * out_c);
    for (std::size_t k = 0; k < per; ++k) {
        q[k] = std::uint8_t(zero_point - 63 + int(k * 5 % 127));  // levels -63 .. 63
        q[per + k] = std::uint8_t(zero_point - 90 + int(k * 7 % 181));  // levels -90 .. 90
    }
    ConvFixture f(in_c, out_c, folded_levels(q, out_c, 0.01, zero_point, {1.3, 0.7}));
    const Int8ConvWeights w = quantize_conv_weights(f.layer, in_c, 63);
    int exact0 = 0, within1 = 0;
    for (std::size_t k = 0; k < per; ++k) {
        exact0 += level(w, in_c, 0, k) == int(q[k]) - zero_point;
        within1 += std::abs(level(w, in_c, 1, k)) <= 63;
    }
    CHECK(exact0 == int(per));
    CHECK(within1 == int(per));
    CHECK(w.weight_scale[1] == doctest::Approx(float(90 * 0.01 * 0.7) / 63.0f).epsilon(1e-6));
}

TEST_CASE("int8 weights: values on no grid are rounded to max|w| / 127 steps; a zero channel keeps scale 1") {
    const int in_c = 4, out_c = 2;
    const std::size_t per = std::size_t(in_c) * 9;
    std::mt19937 rng(11);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::vector<float> values(per * out_c, 0.0f);
    float max_abs = 0.0f;
    for (std::size_t k = 0; k < per; ++k) max_abs = std::max(max_abs, std::fabs(values[k] = normal(rng)));
    ConvFixture f(in_c, out_c, values);
    const Int8ConvWeights w = quantize_conv_weights(f.layer, in_c, 127);
    CHECK(w.weight_scale[0] == max_abs / 127.0f);
    for (std::size_t k = 0; k < per; ++k)
        CHECK(level(w, in_c, 0, k) == int(std::nearbyint(values[k] / w.weight_scale[0])));
    CHECK(w.weight_scale[1] == 1.0f);
    CHECK(w.level_sum[1] == 0.0f);
}
