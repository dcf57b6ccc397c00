// The Network executor on small synthetic .tcw files, against a plain evaluation written
// here: one reference kernel call per layer on its own buffer, no slices, no buffer reuse.
// Real weights and the TF.js comparison live in test_inception_features.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "check_close.hpp"
#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/feature_extractor.hpp"
#include "model/network.hpp"
#include "model/network_plan.hpp"
#include "parallel/thread_pool.hpp"
#include "reference.hpp"
#include "temp_dir.hpp"
#include "weights/weight_file.hpp"
#include "weights/weight_file_writer.hpp"

using namespace tinception;
using tinception::testing::TempDir;

namespace {

// A layer's output for a batch: [n][h][w][c], contiguous.
struct Activation {
    int n = 0, h = 0, w = 0, c = 0;
    std::vector<float> data;
};

// 'same' and 'valid' as TensorFlow defines them, written out again here so the test does
// not borrow conv_geometry.cpp from the code under test.
void axis(const std::string& padding, int in, int k, int stride, int& out, int& before) {
    if (padding == "valid") {
        out = (in - k) / stride + 1;
        before = 0;
    } else {
        out = (in + stride - 1) / stride;
        before = std::max((out - 1) * stride + k - in, 0) / 2;
    }
}

// Builds the layer list and random tensors of a small network, keeping the values so the
// plain evaluation can use them, and writes the .tcw file.
class GraphBuilder {
public:
    explicit GraphBuilder(std::uint32_t seed) : rng_(seed) {}

    void input(const std::string& name, int h, int w, int c) {
        layers_.push_back({name, "input", {}, {{"height", h}, {"width", w}, {"channels", c}}, {}, {}});
        channels_[name] = c;
    }
    void conv(const std::string& name, const std::string& from, int out_c, int kernel_h, int kernel_w,
              int stride, const std::string& padding, bool relu = true) {
        const int in_c = channels_.at(from);
        const int fan_in = in_c * kernel_h * kernel_w;
        std::uniform_real_distribution<float> weight(-1.5f / std::sqrt(float(fan_in)), 1.5f / std::sqrt(float(fan_in)));
        std::uniform_real_distribution<float> bias(-0.2f, 0.2f);
        std::vector<float> w(std::size_t(fan_in) * out_c);
        std::vector<float> b(static_cast<std::size_t>(out_c));
        for (float& v : w) v = weight(rng_);
        for (float& v : b) v = bias(rng_);
        tensors_[name + "/weights"] = Tensor{{out_c, in_c, kernel_h, kernel_w}, w};
        tensors_[name + "/bias"] = Tensor{{out_c}, b};
        layers_.push_back({name, "conv2d", {from},
                           {{"kernel_h", kernel_h}, {"kernel_w", kernel_w}, {"stride_h", stride},
                            {"stride_w", stride}, {"relu", relu ? 1 : 0}},
                           {{"padding", padding}}, {name + "/weights", name + "/bias"}});
        channels_[name] = out_c;
    }
    void pool(const std::string& op, const std::string& name, const std::string& from, int kernel_h,
              int kernel_w, int stride, const std::string& padding) {
        layers_.push_back({name, op, {from},
                           {{"kernel_h", kernel_h}, {"kernel_w", kernel_w}, {"stride_h", stride},
                            {"stride_w", stride}},
                           {{"padding", padding}}, {}});
        channels_[name] = channels_.at(from);
    }
    void concat(const std::string& name, const std::vector<std::string>& from) {
        layers_.push_back({name, "concat", from, {}, {}, {}});
        int c = 0;
        for (const std::string& f : from) c += channels_.at(f);
        channels_[name] = c;
    }
    void flatten(const std::string& name, const std::string& from) {
        layers_.push_back({name, "flatten", {from}, {}, {}, {}});
    }
    // For the error tests: any layer, as given.
    void raw_layer(const LayerSpec& spec) { layers_.push_back(spec); }
    std::vector<LayerSpec>& layers() { return layers_; }

    void write(const std::string& path) const {
        WeightFileWriter writer;
        for (const LayerSpec& l : layers_) writer.add_layer(l);
        for (const auto& [name, t] : tensors_) writer.add_tensor(name, t.dims, t.values);
        writer.set_metadata("source", "test_network synthetic graph");
        writer.write(path);
    }

    // Every layer up to and including `output`, one reference kernel call per layer into
    // its own buffer; returns `output` global-average-pooled, [n][c].
    std::vector<float> evaluate(const std::vector<float>& input, int n, const std::string& output) const {
        std::map<std::string, Activation> acts;
        for (const LayerSpec& l : layers_) {
            Activation out;
            out.n = n;
            if (l.op == "input") {
                out.h = int(l.ints.at("height")), out.w = int(l.ints.at("width")), out.c = int(l.ints.at("channels"));
                out.data = input;
            } else if (l.op == "concat") {
                const Activation& first = acts.at(l.inputs[0]);
                out.h = first.h, out.w = first.w;
                for (const std::string& f : l.inputs) out.c += acts.at(f).c;
                out.data.resize(std::size_t(n) * out.h * out.w * out.c);
                for (std::size_t p = 0; p < std::size_t(n) * out.h * out.w; ++p) {
                    int offset = 0;
                    for (const std::string& f : l.inputs) {
                        const Activation& part = acts.at(f);
                        for (int c = 0; c < part.c; ++c) out.data[p * out.c + offset + c] = part.data[p * part.c + c];
                        offset += part.c;
                    }
                }
            } else if (l.op == "flatten") {
                const Activation& in = acts.at(l.inputs[0]);
                out.h = 1, out.w = 1, out.c = in.h * in.w * in.c;
                out.data = in.data;
            } else {
                const Activation& in = acts.at(l.inputs[0]);
                const std::string padding = l.strings.at("padding");
                const int kh = int(l.ints.at("kernel_h")), kw = int(l.ints.at("kernel_w"));
                const int sh = int(l.ints.at("stride_h")), sw = int(l.ints.at("stride_w"));
                int pad_top = 0, pad_left = 0;
                axis(padding, in.h, kh, sh, out.h, pad_top);
                axis(padding, in.w, kw, sw, out.w, pad_left);
                if (l.op == "conv2d") {
                    const Tensor& w = tensors_.at(l.tensors[0]);
                    out.c = int(w.dims[0]);
                    out.data.assign(std::size_t(n) * out.h * out.w * out.c, 0.0f);
                    kernels::Conv2dArgs a;
                    a.input = in.data.data(), a.weights = w.values.data();
                    a.bias = tensors_.at(l.tensors[1]).values.data(), a.output = out.data.data();
                    a.n = n, a.in_h = in.h, a.in_w = in.w, a.in_c = in.c;
                    a.out_h = out.h, a.out_w = out.w, a.out_c = out.c;
                    a.kernel_h = kh, a.kernel_w = kw, a.stride_h = sh, a.stride_w = sw;
                    a.pad_top = pad_top, a.pad_left = pad_left, a.relu = l.ints.at("relu") != 0;
                    kernels::conv2d_direct_ref(a);
                } else {
                    out.c = in.c;
                    out.data.assign(std::size_t(n) * out.h * out.w * out.c, 0.0f);
                    kernels::Pool2dArgs a;
                    a.input = in.data.data(), a.output = out.data.data();
                    a.n = n, a.in_h = in.h, a.in_w = in.w, a.c = in.c, a.out_h = out.h, a.out_w = out.w;
                    a.kernel_h = kh, a.kernel_w = kw, a.stride_h = sh, a.stride_w = sw;
                    a.pad_top = pad_top, a.pad_left = pad_left;
                    (l.op == "maxpool2d" ? kernels::maxpool2d_ref : kernels::avgpool2d_ref)(a);
                }
            }
            acts[l.name] = std::move(out);
            if (l.name == output) break;
        }
        const Activation& a = acts.at(output);
        std::vector<float> pooled(std::size_t(n) * a.c);
        for (int b = 0; b < n; ++b)
            for (int c = 0; c < a.c; ++c) {
                double sum = 0.0;
                for (int p = 0; p < a.h * a.w; ++p) sum += a.data[(std::size_t(b) * a.h * a.w + p) * a.c + c];
                pooled[std::size_t(b) * a.c + c] = float(sum / (a.h * a.w));
            }
        return pooled;
    }

private:
    struct Tensor {
        std::vector<std::int64_t> dims;
        std::vector<float> values;
    };
    std::mt19937 rng_;
    std::vector<LayerSpec> layers_;
    std::map<std::string, Tensor> tensors_;
    std::map<std::string, int> channels_;
};

// input 11x13x3 -> stem (3x3 same, 3x3 s2 valid, maxpool) -> an Inception-like block with a
// 1x7/7x1 branch and a pool branch -> a block shaped like mixed9, whose branches include a
// concat (mixed_b_0) inside the outer concat and a pool written straight into it -> avgpool
// -> flatten. Channel counts are odd on purpose so no slice starts on a vector boundary.
GraphBuilder small_inception(std::uint32_t seed = 2024) {
    GraphBuilder g(seed);
    g.input("input_1", 11, 13, 3);
    g.conv("stem_3x3", "input_1", 7, 3, 3, 1, "same");                  // 11x13x7
    g.conv("stem_3x3_s2", "stem_3x3", 9, 3, 3, 2, "valid");             // 5x6x9
    g.pool("maxpool2d", "stem_pool", "stem_3x3_s2", 3, 3, 1, "same");   // 5x6x9
    g.conv("a_1x1", "stem_pool", 5, 1, 1, 1, "valid");
    g.conv("a_1x7", "stem_pool", 6, 1, 7, 1, "same");
    g.conv("a_7x1", "a_1x7", 7, 7, 1, 1, "same", /*relu=*/false);
    g.pool("avgpool2d", "a_pool", "stem_pool", 3, 3, 1, "same");
    g.conv("a_pool_1x1", "a_pool", 4, 1, 1, 1, "valid");
    g.concat("mixed_a", {"a_1x1", "a_7x1", "a_pool_1x1"});              // 5x6x16
    g.conv("b_1x1", "mixed_a", 3, 1, 1, 1, "valid");
    g.conv("b_3x3_reduce", "mixed_a", 6, 1, 1, 1, "valid");
    g.conv("b_1x3", "b_3x3_reduce", 5, 1, 3, 1, "same");
    g.conv("b_3x1", "b_3x3_reduce", 4, 3, 1, 1, "same");
    g.concat("mixed_b_0", {"b_1x3", "b_3x1"});                          // 5x6x9
    g.pool("maxpool2d", "b_pool", "mixed_a", 3, 3, 1, "same");          // 5x6x16
    g.concat("mixed_b", {"b_1x1", "mixed_b_0", "b_pool"});              // 5x6x28
    g.pool("avgpool2d", "head_pool", "mixed_b", 2, 2, 2, "valid");      // 2x3x28
    g.flatten("flatten_1", "head_pool");                                // 1x1x168
    return g;
}

// Inception's grid sizes with channel counts wide enough for the threads to split by
// channel: 19x19x8 -> 17x17x64 -> a 17x17 block (1x1, 1x7 then 7x1, avgpool then 1x1) ->
// 3x3 stride 2 -> an 8x8 block (1x1, 3x3, 1x3 and 3x1 in a nested concat, maxpool).
GraphBuilder wide_inception(std::uint32_t seed) {
    GraphBuilder g(seed);
    g.input("input_1", 19, 19, 8);
    g.conv("stem", "input_1", 64, 3, 3, 1, "valid");                   // 17x17x64
    g.conv("c_1x1", "stem", 96, 1, 1, 1, "valid");
    g.conv("c_1x7", "stem", 80, 1, 7, 1, "same");
    g.conv("c_7x1", "c_1x7", 96, 7, 1, 1, "same");
    g.pool("avgpool2d", "c_pool", "stem", 3, 3, 1, "same");
    g.conv("c_pool_1x1", "c_pool", 64, 1, 1, 1, "valid");
    g.concat("mixed_c", {"c_1x1", "c_7x1", "c_pool_1x1"});            // 17x17x256
    g.conv("d_3x3_s2", "mixed_c", 96, 3, 3, 2, "valid");               // 8x8x96
    g.conv("d_1x1", "d_3x3_s2", 64, 1, 1, 1, "valid");
    g.conv("d_3x3", "d_3x3_s2", 96, 3, 3, 1, "same");
    g.conv("d_1x3", "d_3x3", 80, 1, 3, 1, "same");
    g.conv("d_3x1", "d_3x3", 80, 3, 1, 1, "same");
    g.concat("mixed_d_0", {"d_1x3", "d_3x1"});
    g.pool("maxpool2d", "d_pool", "d_3x3_s2", 3, 3, 1, "same");
    g.concat("mixed_d", {"d_1x1", "mixed_d_0", "d_pool"});            // 8x8x320
    return g;
}

std::vector<float> random_input(std::size_t count, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> v(count);
    for (float& x : v) x = dist(rng);
    return v;
}

// The longest chain is 6 convolutions of at most 63 products each (3x3x7, 1x7x9); every
// conv's rounding drifts by about terms * FLT_EPSILON of the activation scale, and the drift
// adds up along the chain, so the tolerance is that sum times the output's scale.
testing::Tolerance network_tolerance(const std::vector<float>& expected) {
    double scale = 1.0;
    for (const float v : expected) scale = std::max(scale, double(std::fabs(v)));
    constexpr long kChainTerms = 6 * 63;
    return testing::sum_tolerance(kChainTerms, scale);
}

std::string build_error(const std::string& path, const std::string& output) {
    try {
        const WeightFile weights = WeightFile::open(path);
        Network net(weights, output, kernels::reference_kernels());
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

const char* const kOutputs[] = {"a_7x1", "mixed_a", "b_1x3", "mixed_b_0", "b_pool", "mixed_b", "flatten_1"};

}  // namespace

TEST_CASE("network: every kernel table matches a plain evaluation at several layers") {
    TempDir dir;
    const GraphBuilder g = small_inception();
    g.write(dir.file("small.tcw"));
    const WeightFile weights = WeightFile::open(dir.file("small.tcw"));
    std::string ran;
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        ran += std::string(" ") + table->isa_name;
        for (const char* output : kOutputs) {
            Network net(weights, output, *table);
            CHECK(net.input_shape().h == 11);
            CHECK(net.input_shape().w == 13);
            CHECK(net.input_shape().c == 3);
            for (const int n : {1, 3}) {
                const std::string isa = table->isa_name, layer = output;  // doctest prints char* as a pointer
                CAPTURE(isa);
                CAPTURE(layer);
                CAPTURE(n);
                const std::vector<float> input = random_input(std::size_t(n) * 11 * 13 * 3, 7 + n);
                const std::vector<float> expected = g.evaluate(input, n, output);
                REQUIRE(expected.size() == std::size_t(n) * net.feature_size());
                std::vector<float> actual(expected.size(), NAN);
                net.extract_features(input.data(), n, actual.data());
                testing::check_close(expected.data(), actual.data(), expected.size(), network_tolerance(expected));
            }
        }
    }
    MESSAGE("kernel tables run through the network:" << ran);
}

TEST_CASE("network: several layers pooled from one pass match each layer's own network") {
    TempDir dir;
    const GraphBuilder g = small_inception(23);
    g.write(dir.file("small.tcw"));
    const WeightFile weights = WeightFile::open(dir.file("small.tcw"));
    // mixed_a owns its buffer; b_1x3 is a slice of mixed_b_0's (pixels 9 floats apart).
    const std::vector<std::string> layers{"mixed_b", "b_1x3", "mixed_a"};
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        for (const int n : {1, 3}) {
            const std::string isa = table->isa_name;
            CAPTURE(isa);
            CAPTURE(n);
            const std::vector<float> input = random_input(std::size_t(n) * 11 * 13 * 3, 3 + n);
            std::vector<float> expected;  // row by row: the layers side by side
            std::vector<std::vector<float>> each;
            for (const std::string& layer : layers) {
                Network alone(weights, layer, *table);
                std::vector<float> f(std::size_t(n) * alone.feature_size());
                alone.extract_features(input.data(), n, f.data());
                each.push_back(f);
            }
            for (int b = 0; b < n; ++b)
                for (const std::vector<float>& f : each) {
                    const std::size_t size = f.size() / std::size_t(n);
                    expected.insert(expected.end(), f.begin() + long(b * size), f.begin() + long((b + 1) * size));
                }
            Network net(weights, "mixed_b", *table);
            net.pool_layers(layers);
            CHECK(net.feature_size() == 28 + 5 + 16);
            std::vector<float> actual(expected.size(), NAN);
            net.extract_features(input.data(), n, actual.data());
            testing::check_close(expected.data(), actual.data(), expected.size(), network_tolerance(expected));
        }
    }
    Network net(weights, "mixed_a", kernels::reference_kernels());
    CHECK_THROWS_WITH_AS(net.pool_layers({"mixed_b"}), doctest::Contains("not computed on the way to 'mixed_a'"), Error);
    CHECK_THROWS_WITH_AS(net.pool_layers({"a_1x1", "a_1x1"}), doctest::Contains("named twice"), Error);
}

TEST_CASE("network: a 1x1 convolution fed by an average pooling runs before it, unless the pooling's output is wanted") {
    TempDir dir;
    const GraphBuilder g = small_inception(31);
    g.write(dir.file("small.tcw"));
    const WeightFile weights = WeightFile::open(dir.file("small.tcw"));
    const auto describes = [](const Network& net, const std::string& text) {
        for (const std::string& line : net.step_descriptions())
            if (line.find(text) != std::string::npos) return true;
        return false;
    };
    constexpr int n = 2;
    const std::vector<float> input = random_input(std::size_t(n) * 11 * 13 * 3, 41);
    const std::vector<float> pooled = g.evaluate(input, n, "a_pool"), mixed = g.evaluate(input, n, "mixed_a");
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        const std::string isa = table->isa_name;
        CAPTURE(isa);
        Network net(weights, "mixed_a", *table);
        CHECK(describes(net, "a_pool (avgpool2d 3x3/1) -> 5x6x9, running a_pool_1x1's 1x1 first"));
        CHECK(describes(net, "a_pool_1x1 (conv2d 1x1/1) -> 5x6x4, pooling after the 1x1"));
        std::vector<float> swapped(mixed.size(), NAN);
        net.extract_features(input.data(), n, swapped.data());
        testing::check_close(mixed.data(), swapped.data(), mixed.size(), network_tolerance(mixed));

        // A step observer (int8 calibration) sees every layer's own output, the pooling's too.
        std::vector<float> observed_pool(pooled.size(), 0.0f);
        net.observe_steps([&](const Layer& layer, const float* out, int images, int stride) {
            if (layer.name != "a_pool") return;
            for (int b = 0; b < images; ++b)
                for (int p = 0; p < 5 * 6; ++p)
                    for (int c = 0; c < 9; ++c) observed_pool[std::size_t(b * 9 + c)] += out[(b * 30 + p) * stride + c] / 30.0f;
        });
        CHECK_FALSE(describes(net, "running a_pool_1x1's 1x1 first"));
        std::vector<float> observed(mixed.size(), NAN);
        net.extract_features(input.data(), n, observed.data());
        testing::check_close(pooled.data(), observed_pool.data(), pooled.size(), network_tolerance(pooled));
        testing::check_close(mixed.data(), observed.data(), mixed.size(), network_tolerance(mixed));
        net.observe_steps({});

        // So does a feature that pools the pooling itself.
        net.pool_layers({"a_pool", "mixed_a"});
        CHECK_FALSE(describes(net, "running a_pool_1x1's 1x1 first"));
        std::vector<float> both(std::size_t(n) * (9 + 16), NAN), expected;
        for (int b = 0; b < n; ++b) {
            expected.insert(expected.end(), pooled.begin() + b * 9, pooled.begin() + (b + 1) * 9);
            expected.insert(expected.end(), mixed.begin() + b * 16, mixed.begin() + (b + 1) * 16);
        }
        net.extract_features(input.data(), n, both.data());
        testing::check_close(expected.data(), both.data(), expected.size(), network_tolerance(expected));
    }
}

TEST_CASE("layer sets: a comma-separated list, no empty or repeated names") {
    CHECK(split_layer_set("mixed5") == std::vector<std::string>{"mixed5"});
    CHECK(split_layer_set("mixed5,mixed7") == std::vector<std::string>{"mixed5", "mixed7"});
    CHECK_THROWS_WITH_AS(split_layer_set("mixed5,"), "layer list 'mixed5,' has an empty name", Error);
    CHECK_THROWS_WITH_AS(split_layer_set(",mixed5"), "layer list ',mixed5' has an empty name", Error);
    CHECK_THROWS_WITH_AS(split_layer_set("a,b,a"), "layer list 'a,b,a' names 'a' twice", Error);
}

TEST_CASE("network: output shapes and multiply-adds follow the layers") {
    TempDir dir;
    small_inception().write(dir.file("small.tcw"));
    const WeightFile weights = WeightFile::open(dir.file("small.tcw"));
    Network flat(weights, "flatten_1", kernels::reference_kernels());
    CHECK(flat.feature_size() == 2 * 3 * 28);
    Network mixed_b(weights, "mixed_b", kernels::reference_kernels());
    CHECK(mixed_b.output_shape().h == 5);
    CHECK(mixed_b.output_shape().w == 6);
    CHECK(mixed_b.output_shape().c == 28);
    Network stem(weights, "stem_3x3_s2", kernels::reference_kernels());
    CHECK(stem.multiply_adds_per_image() == 11 * 13 * 7 * 3 * 9 + 5 * 6 * 9 * 7 * 9);
}

TEST_CASE("network: a batch of 3 gives what three single runs give, with one network reused") {
    TempDir dir;
    const GraphBuilder g = small_inception(99);
    g.write(dir.file("small.tcw"));
    const WeightFile weights = WeightFile::open(dir.file("small.tcw"));
    const std::size_t image_floats = 11 * 13 * 3;
    const std::vector<float> input = random_input(3 * image_floats, 5);
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        for (const char* output : {"mixed_b", "flatten_1"}) {
            const std::string isa = table->isa_name, layer = output;
            CAPTURE(isa);
            CAPTURE(layer);
            Network net(weights, output, *table);
            const std::size_t f = std::size_t(net.feature_size());
            std::vector<float> batch(3 * f), singles(3 * f), again(3 * f);
            net.extract_features(input.data(), 3, batch.data());
            for (int i = 0; i < 3; ++i) net.extract_features(input.data() + i * image_floats, 1, singles.data() + i * f);
            net.extract_features(input.data(), 3, again.data());
            // Each image's arithmetic is the same whatever else is in the batch, so these
            // are equal to the bit, not merely close.
            CHECK(batch == singles);
            CHECK(batch == again);
        }
    }
}

// Large early layers (36x36, at least kBatchedBelowPixels) feeding smaller ones (17x17): the
// early waves run a few images at a time. c1's buffer dies early, c3 and the concat's live
// into the batched waves, so a slot shared between them would mix images.
GraphBuilder early_and_late(std::uint32_t seed) {
    GraphBuilder g(seed);
    g.input("input_1", 36, 36, 3);
    g.conv("c1", "input_1", 8, 3, 3, 1, "same");
    g.conv("c2", "c1", 16, 3, 3, 1, "same");
    g.conv("c3", "c2", 4, 1, 1, 1, "valid");
    g.pool("maxpool2d", "p1", "c2", 3, 3, 1, "same");
    g.pool("avgpool2d", "p2", "c2", 3, 3, 1, "same");
    g.conv("c6", "p2", 4, 1, 1, 1, "valid");       // computed before p2's pooling, in p2's early slot
    g.concat("cat", {"c3", "p1", "c6"});           // 36x36x24
    g.conv("c4", "cat", 24, 3, 3, 2, "valid");     // 17x17x24
    g.conv("c5", "c4", 32, 1, 1, 1, "valid");
    return g;
}

TEST_CASE("network: early layers run a few images at a time and give what single images and one thread give") {
    TempDir dir;
    const GraphBuilder g = early_and_late(21);
    g.write(dir.file("early.tcw"));
    const WeightFile weights = WeightFile::open(dir.file("early.tcw"));
    const NetworkPlan plan = plan_network(weights.graph(), "c5", "early.tcw");
    REQUIRE(plan.batched_from_wave > 1);  // the case under test: some waves run image-wise
    const std::size_t image_floats = 36 * 36 * 3;
    constexpr int n = 5;
    const std::vector<float> input = random_input(n * image_floats, 3);
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        const std::string isa = table->isa_name;
        CAPTURE(isa);
        Network net(weights, "c5", *table);
        net.pool_layers({"c2", "c5"});  // c2 pooled in the early waves, per run of images
        const std::size_t f = std::size_t(net.feature_size());
        set_thread_count(1);
        std::vector<float> singles(n * f, NAN);
        for (int i = 0; i < n; ++i) net.extract_features(input.data() + i * image_floats, 1, singles.data() + i * f);
        for (const int threads : {1, 2, 3}) {  // images 1, 2 or 3 at a time, the last run shorter
            CAPTURE(threads);
            set_thread_count(threads);
            std::vector<float> batch(n * f, NAN);
            net.extract_features(input.data(), n, batch.data());
            CHECK(batch == singles);
        }
        const std::vector<float> expected = g.evaluate(input, 1, "c5");
        double scale = 1.0;
        for (const float v : expected) scale = std::max(scale, double(std::fabs(v)));
        // The chain c1, c2, c3, c4, c5 sums 27 + 72 + 16 + 216 + 24 products.
        testing::check_close(expected.data(), singles.data() + 16, 32, testing::sum_tolerance(355, scale));
    }
    set_thread_count(2);
}

TEST_CASE("network: features are bit-identical on 1, 2, 3 and more threads than cores, at batch 1 and 8") {
    TempDir dir;
    const GraphBuilder g = wide_inception(7);
    g.write(dir.file("wide.tcw"));
    const WeightFile weights = WeightFile::open(dir.file("wide.tcw"));
    const std::size_t image_floats = 19 * 19 * 8;
    const int more_than_cores = int(std::thread::hardware_concurrency()) + 1;
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        const std::string isa = table->isa_name;
        CAPTURE(isa);
        Network net(weights, "mixed_d", *table);
        // The reference table's plain loops are slow at batch 8; batch 1 covers its cuts.
        const std::vector<int> batches =
            table == &kernels::reference_kernels() ? std::vector<int>{1} : std::vector<int>{1, 8};
        for (const int n : batches) {
            CAPTURE(n);
            const std::vector<float> input = random_input(std::size_t(n) * image_floats, 11);
            std::vector<float> one(std::size_t(n) * std::size_t(net.feature_size()));
            set_thread_count(1);
            net.extract_features(input.data(), n, one.data());
            if (n == 1) {
                // The longest chain, stem -> 1x7 -> 7x1 -> 3x3/2 -> 3x3 -> 1x3, sums 4536 products.
                const std::vector<float> expected = g.evaluate(input, n, "mixed_d");
                double scale = 1.0;
                for (const float v : expected) scale = std::max(scale, double(std::fabs(v)));
                testing::check_close(expected.data(), one.data(), one.size(), testing::sum_tolerance(4536, scale));
            }
            for (const int threads : {2, 3, more_than_cores}) {
                CAPTURE(threads);
                set_thread_count(threads);
                std::vector<float> many(one.size(), NAN);
                net.extract_features(input.data(), n, many.data());
                CHECK(one == many);
            }
        }
    }
    set_thread_count(2);
}

TEST_CASE("network plan: waves run after their inputs, and no two buffers live in one wave share a slot") {
    TempDir dir;
    wide_inception(7).write(dir.file("wide.tcw"));
    const WeightFile weights = WeightFile::open(dir.file("wide.tcw"));
    const NetworkPlan plan = plan_network(weights.graph(), "mixed_d", "wide.tcw");
    const std::vector<PlannedStep>& steps = plan.steps;
    REQUIRE(plan.wave_starts.size() >= 3);
    CHECK(plan.wave_starts.front() == 0);
    CHECK(plan.wave_starts.back() == int(steps.size()));
    std::size_t widest = 0;
    for (std::size_t w = 0; w + 1 < plan.wave_starts.size(); ++w) {
        CAPTURE(w);
        REQUIRE(plan.wave_starts[w] < plan.wave_starts[w + 1]);
        widest = std::max(widest, std::size_t(plan.wave_starts[w + 1] - plan.wave_starts[w]));
        for (int i = plan.wave_starts[w]; i < plan.wave_starts[w + 1]; ++i) {
            const PlannedStep& s = steps[std::size_t(i)];
            CHECK(s.wave == int(w));
            int latest_input = -1;
            for (const int in : s.inputs) latest_input = std::max(latest_input, steps[std::size_t(in)].wave);
            CHECK(s.wave == latest_input + 1);  // as early as its inputs allow
        }
    }
    CHECK(widest >= 3);  // the branches of a block share waves
    CHECK(steps.back().layer->name == "mixed_d");
    CHECK(plan.wave_starts[plan.wave_starts.size() - 2] == int(steps.size()) - 1);  // the output alone
    // Each buffer is live from the first wave writing into it to the last wave reading it;
    // buffers sharing a slot must not be live in one wave, since its steps may run at once.
    std::vector<int> first(steps.size(), INT32_MAX), last(steps.size(), -1);
    for (const PlannedStep& s : steps) {
        const std::size_t o = std::size_t(s.owner);
        first[o] = std::min(first[o], s.wave);
        last[o] = std::max(last[o], s.wave);
        for (const int in : s.inputs) {
            const std::size_t r = std::size_t(steps[std::size_t(in)].owner);
            last[r] = std::max(last[r], s.wave);
        }
    }
    for (std::size_t a = 1; a < steps.size(); ++a)
        for (std::size_t b = a + 1; b < steps.size(); ++b) {
            if (steps[a].owner != int(a) || steps[b].owner != int(b) || steps[a].slot != steps[b].slot) continue;
            CAPTURE(steps[a].layer->name);
            CAPTURE(steps[b].layer->name);
            CHECK((last[a] < first[b] || last[b] < first[a]));
        }
}

TEST_CASE("network: networks on one PackedWeights share one packing and compute what a network packing its own does") {
    TempDir dir;
    const GraphBuilder g = small_inception(41);
    g.write(dir.file("small.tcw"));
    const WeightFile weights = WeightFile::open(dir.file("small.tcw"));
    const std::vector<float> input = random_input(2 * 11 * 13 * 3, 3);
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        const std::string isa = table->isa_name;
        CAPTURE(isa);
        Network own(weights, "mixed_b", *table);
        std::vector<float> expected(2 * std::size_t(own.feature_size()));
        own.extract_features(input.data(), 2, expected.data());
        const std::size_t one_copy = own.packed_weights()->packed_bytes();
        CHECK((one_copy > 0) == (table->conv2d_pack != nullptr));

        // Four networks built and run at once on four threads: the layers are packed once.
        const auto shared = std::make_shared<const PackedWeights>(weights, *table);
        std::vector<std::vector<float>> got(4, std::vector<float>(expected.size(), NAN));
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < got.size(); ++t)
            threads.emplace_back([&, t] {
                Network net(shared, "mixed_b");
                net.extract_features(input.data(), 2, got[t].data());
            });
        for (std::thread& t : threads) t.join();
        CHECK(shared->packed_bytes() == one_copy);
        for (const std::vector<float>& features : got) CHECK(features == expected);  // the same bytes packed

        // A network on a cut the others already packed adds nothing; a longer one adds its own layers only.
        Network shorter(shared, "mixed_a");
        CHECK(shared->packed_bytes() == one_copy);
        Network longer(shared, "flatten_1");
        CHECK(shared->packed_bytes() == Network(weights, "flatten_1", *table).packed_weights()->packed_bytes());
        CHECK(longer.packed_weights() == shared);
    }
}

TEST_CASE("network: an unknown output layer is refused with the blocks listed") {
    TempDir dir;
    small_inception().write(dir.file("small.tcw"));
    const std::string message = build_error(dir.file("small.tcw"), "mixed_c");
    CHECK(message.find("no layer named 'mixed_c'") != std::string::npos);
    CHECK(message.find("small.tcw") != std::string::npos);
    CHECK(message.find("mixed_a, mixed_b_0, mixed_b") != std::string::npos);
}
