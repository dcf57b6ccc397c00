// The int8 network's input: the float image quantized to u8 pixels (value = pixel * input_scale
// + input_offset), four bytes an RGB pixel, read by the first convolution in int8. On a small
// synthetic weight file whose weights quantize exactly and whose input is whole pixels, the
// int8 features equal fp32's up to float rounding, with a zero or a non-zero input_offset;
// padding on an input whose pixel 0 is not the value 0 is refused.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/network.hpp"
#include "quant/activation_ranges.hpp"
#include "quant/int8_network.hpp"
#include "temp_dir.hpp"
#include "weights/weight_file.hpp"
#include "weights/weight_file_writer.hpp"

using namespace tinception;

namespace {

constexpr int kSize = 11, kOut = 24;

// input kSize x kSize x 3 -> 3x3 stride-2 conv "first" (padding as given) -> 1x1 conv "last".
// Each output channel's weights are whole multiples of its own step with one at 127 steps, so
// per-channel s8 quantization keeps them exactly; ReLU on the first.
void write_weights(const std::string& path, const std::string& padding, double input_scale, double input_offset) {
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> level(-127, 127);
    const auto exact_weights = [&](int out_c, int per_channel) {
        std::vector<float> w(std::size_t(out_c * per_channel));
        for (int oc = 0; oc < out_c; ++oc) {
            const float step = 0.002f * float(oc + 1);
            for (int k = 0; k < per_channel; ++k)
                w[std::size_t(oc * per_channel + k)] = float(k == oc % per_channel ? 127 : level(rng)) * step;
        }
        return w;
    };
    WeightFileWriter w;
    w.add_layer({"input_1", "input", {}, {{"height", kSize}, {"width", kSize}, {"channels", 3}}, {}, {}});
    w.add_layer({"first", "conv2d", {"input_1"},
                 {{"kernel_h", 3}, {"kernel_w", 3}, {"stride_h", 2}, {"stride_w", 2}, {"relu", 1}},
                 {{"padding", padding}}, {"first/weights", "first/bias"}});
    w.add_tensor("first/weights", {kOut, 3, 3, 3}, exact_weights(kOut, 27));
    std::vector<float> bias(kOut);
    for (int oc = 0; oc < kOut; ++oc) bias[std::size_t(oc)] = 0.05f * float(oc % 5) - 0.1f;
    w.add_tensor("first/bias", {kOut}, bias);
    w.add_layer({"last", "conv2d", {"first"},
                 {{"kernel_h", 1}, {"kernel_w", 1}, {"stride_h", 1}, {"stride_w", 1}, {"relu", 0}},
                 {{"padding", "valid"}}, {"last/weights", "last/bias"}});
    w.add_tensor("last/weights", {8, kOut, 1, 1}, exact_weights(8, kOut));
    w.add_tensor("last/bias", {8}, std::vector<float>(8, 0.0f));
    w.set_metadata("input_scale", std::to_string(input_scale));
    w.set_metadata("input_offset", std::to_string(input_offset));
    w.write(path);
}

// Two images of whole pixels 0..255, as the preprocessing gives them.
std::vector<float> whole_pixel_input(float scale, float offset) {
    std::mt19937 rng(8);
    std::uniform_int_distribution<int> pixel(0, 255);
    std::vector<float> input(2 * kSize * kSize * 3);
    for (float& v : input) v = float(pixel(rng)) * scale + offset;
    return input;
}

// Pooled "first" and "last" features of both images, from fp32 and from int8.
struct Features {
    std::vector<float> fp32, int8;
};

Features features_of(const WeightFile& weights, const std::vector<float>& input) {
    Network fp32(weights, "last", kernels::reference_kernels());
    fp32.pool_layers({"first", "last"});
    Features f;
    f.fp32.resize(2 * std::size_t(fp32.feature_size()));
    fp32.extract_features(input.data(), 2, f.fp32.data());
    const ActivationRanges ranges = calibrate_ranges(weights, "last", input.data(), 2, parse_range_rule("max"));
    for (const kernels::Int8KernelTable* table : {&kernels::reference_int8_kernels(), &active_int8_kernels()}) {
        Int8Network int8(weights, "last", ranges, *table);
        int8.pool_layers({"first", "last"});
        std::vector<float> out(2 * std::size_t(int8.feature_size()));
        int8.extract_features(input.data(), 2, out.data());
        if (f.int8.empty())
            f.int8 = out;
        else
            CHECK(out == f.int8);  // the table in use gives the reference table's features
    }
    return f;
}

}  // namespace

TEST_CASE("int8 input: whole pixels and exact weights give fp32's features, with pixel 0 at 0 or at -1") {
    struct Case { const char* padding; double scale, offset; };
    for (const Case c : {Case{"same", 1.0 / 255.0, 0.0}, Case{"valid", 1.0 / 255.0, 0.0}, Case{"valid", 2.0 / 255.0, -1.0}}) {
        CAPTURE(c.padding);
        CAPTURE(c.offset);
        testing::TempDir dir;
        write_weights(dir.file("w.tcw"), c.padding, c.scale, c.offset);
        const WeightFile weights = WeightFile::open(dir.file("w.tcw"));
        const Features f = features_of(weights, whole_pixel_input(float(c.scale), float(c.offset)));
        REQUIRE(f.fp32.size() == f.int8.size());
        // "first" is requantized to u8 (half a step of its range at most); "last" sums those.
        float largest = 0.0f;
        for (const float v : f.fp32) largest = std::max(largest, std::fabs(v));
        for (std::size_t i = 0; i < f.fp32.size(); ++i) {
            CAPTURE(i);
            CHECK(std::fabs(f.int8[i] - f.fp32[i]) <= 0.01f * largest);
        }
    }
}

TEST_CASE("int8 input: a first convolution that pads an input whose pixel 0 is not the value 0 is refused") {
    testing::TempDir dir;
    write_weights(dir.file("w.tcw"), "same", 2.0 / 255.0, -1.0);
    const WeightFile weights = WeightFile::open(dir.file("w.tcw"));
    const std::vector<float> input = whole_pixel_input(2.0f / 255.0f, -1.0f);
    const ActivationRanges ranges = calibrate_ranges(weights, "last", input.data(), 2, parse_range_rule("max"));
    CHECK_THROWS_WITH_AS(Int8Network(weights, "last", ranges, kernels::reference_int8_kernels()),
                         doctest::Contains("layer 'first': it pads the input"), Error);
}
