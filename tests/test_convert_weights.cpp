// convert_weights on a small Keras-style TF.js model the test writes itself: the graph comes
// out right, batch normalisation folds to exactly what conv-then-BN computes, bad input is refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "convert.hpp"
#include "error.hpp"
#include "image/image.hpp"
#include "image/preprocess.hpp"
#include "model/feature_extractor.hpp"
#include "reference.hpp"
#include "temp_dir.hpp"
#include "weights/layer_graph.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;
using nlohmann::json;
using tinception::testing::TempDir;

namespace {

enum class Encoding { float32, uint8, float16 };

// Values are multiples of 1/64 in a small range, so float16 holds them exactly.
std::vector<float> sixty_fourths(std::size_t n, int lo, int hi, std::mt19937& rng) {
    std::uniform_int_distribution<int> pick(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = float(pick(rng)) / 64.0f;
    return v;
}

std::uint16_t exact_half(float v) {
    if (v == 0.0f) return 0;
    const std::uint16_t sign = v < 0 ? 0x8000 : 0;
    int exponent = 0;
    const float m = std::frexp(std::fabs(v), &exponent);   // v = m * 2^exponent, m in [0.5, 1)
    const int biased = exponent - 1 + 15;
    REQUIRE(biased > 0);
    const auto mantissa = std::uint16_t(std::lround((m * 2.0f - 1.0f) * 1024.0f));
    return std::uint16_t(sign | (biased << 10) | mantissa);
}

json layer(const std::string& name, const std::string& cls, json config, const std::vector<std::string>& inputs) {
    config["name"] = name;
    json nodes = json::array();
    if (!inputs.empty()) {
        json node = json::array();
        for (const std::string& in : inputs) node.push_back({in, 0, 0, json::object()});
        nodes.push_back(node);
    }
    return {{"name", name}, {"class_name", cls}, {"config", config}, {"inbound_nodes", nodes}};
}

// input 9x9x3 -> conv2d_1 3x3 same (no bias) + BN(scale false) + relu
//   -> conv2d_2 3x3 s2 valid (bias) + BN(scale true)      -> average_pooling2d_1 3x3 s1 same
//   -> max_pooling2d_1 3x3 s2 valid (from the relu)
//   -> mixed0 = concat(max_pooling2d_1, average_pooling2d_1) -> flatten_1 -> dropout_1 -> dense_1 (softmax)
struct SyntheticModel {
    std::map<std::string, std::vector<float>> values;   // as the converter will decode them
    std::map<std::string, std::vector<std::int64_t>> shapes;
    json topology;

    SyntheticModel() {
        std::mt19937 rng(1234);
        auto add = [&](const std::string& name, std::vector<std::int64_t> shape, int lo, int hi) {
            std::size_t n = 1;
            for (const std::int64_t d : shape) n *= std::size_t(d);
            values[name] = sixty_fourths(n, lo, hi, rng);
            shapes[name] = std::move(shape);
        };
        add("conv2d_1/kernel", {3, 3, 3, 4}, -40, 40);
        add("batch_normalization_1/beta", {4}, -30, 30);
        add("batch_normalization_1/moving_mean", {4}, -30, 30);
        add("batch_normalization_1/moving_variance", {4}, 8, 100);
        add("conv2d_2/kernel", {3, 3, 4, 5}, -40, 40);
        add("conv2d_2/bias", {5}, -20, 20);
        add("batch_normalization_2/gamma", {5}, 16, 120);
        add("batch_normalization_2/beta", {5}, -30, 30);
        add("batch_normalization_2/moving_mean", {5}, -30, 30);
        add("batch_normalization_2/moving_variance", {5}, 8, 100);
        add("dense_1/kernel", {144, 3}, -40, 40);
        add("dense_1/bias", {3}, -10, 10);

        const json bn_base = {{"axis", 3}, {"epsilon", 0.001}, {"center", true}, {"momentum", 0.99}};
        json bn1 = bn_base, bn2 = bn_base;
        bn1["scale"] = false;
        bn2["scale"] = true;
        json layers = json::array();
        layers.push_back(layer("input_1", "InputLayer", {{"batch_input_shape", {nullptr, 9, 9, 3}}, {"dtype", "float32"}}, {}));
        layers.push_back(layer("conv2d_1", "Conv2D",
                               {{"filters", 4}, {"kernel_size", {3, 3}}, {"strides", {1, 1}}, {"padding", "same"},
                                {"data_format", "channels_last"}, {"dilation_rate", {1, 1}}, {"activation", "linear"},
                                {"use_bias", false}}, {"input_1"}));
        layers.push_back(layer("batch_normalization_1", "BatchNormalization", bn1, {"conv2d_1"}));
        layers.push_back(layer("activation_1", "Activation", {{"activation", "relu"}}, {"batch_normalization_1"}));
        layers.push_back(layer("conv2d_2", "Conv2D",
                               {{"filters", 5}, {"kernel_size", {3, 3}}, {"strides", {2, 2}}, {"padding", "valid"},
                                {"data_format", "channels_last"}, {"activation", "linear"}, {"use_bias", true}},
                               {"activation_1"}));
        layers.push_back(layer("batch_normalization_2", "BatchNormalization", bn2, {"conv2d_2"}));
        layers.push_back(layer("max_pooling2d_1", "MaxPooling2D",
                               {{"pool_size", {3, 3}}, {"strides", {2, 2}}, {"padding", "valid"}}, {"activation_1"}));
        layers.push_back(layer("average_pooling2d_1", "AveragePooling2D",
                               {{"pool_size", {3, 3}}, {"strides", {1, 1}}, {"padding", "same"}}, {"batch_normalization_2"}));
        layers.push_back(layer("mixed0", "Concatenate", {{"axis", 3}}, {"max_pooling2d_1", "average_pooling2d_1"}));
        layers.push_back(layer("flatten_1", "Flatten", json::object(), {"mixed0"}));
        layers.push_back(layer("dropout_1", "Dropout", {{"rate", 0.5}}, {"flatten_1"}));
        layers.push_back(layer("dense_1", "Dense", {{"units", 3}, {"activation", "softmax"}, {"use_bias", true}}, {"dropout_1"}));
        topology = {{"keras_version", "2.2.4"}, {"backend", "tensorflow"},
                    {"model_config", {{"class_name", "Model"},
                                      {"config", {{"name", "model_1"}, {"layers", layers},
                                                  {"input_layers", {{"input_1", 0, 0}}},
                                                  {"output_layers", {{"dense_1", 0, 0}}}}}}}};
    }

    // Writes model.json and two shards; the manifest lists weights in reverse name order so
    // the converter must look them up by name. Returns the model.json path.
    std::string write(const TempDir& dir, Encoding encoding) {
        std::vector<std::uint8_t> bytes;
        json weights = json::array();
        for (auto it = values.rbegin(); it != values.rend(); ++it) {
            std::vector<float>& v = it->second;
            json entry = {{"name", it->first}, {"shape", shapes[it->first]}, {"dtype", "float32"}};
            if (encoding == Encoding::float32) {
                const auto* p = reinterpret_cast<const std::uint8_t*>(v.data());
                bytes.insert(bytes.end(), p, p + v.size() * 4);
            } else if (encoding == Encoding::float16) {
                for (const float x : v) {
                    const std::uint16_t h = exact_half(x);
                    bytes.push_back(std::uint8_t(h & 0xFF));
                    bytes.push_back(std::uint8_t(h >> 8));
                }
                entry["quantization"] = {{"dtype", "float16"}};
            } else {
                float lo = v[0], hi = v[0];
                for (const float x : v) lo = std::min(lo, x), hi = std::max(hi, x);
                const double scale = hi > lo ? (double(hi) - lo) / 255.0 : 1.0;
                for (float& x : v) {
                    const auto q = std::uint8_t(std::lround((double(x) - lo) / scale));
                    bytes.push_back(q);
                    x = float(double(lo) + scale * q);   // what the converter will see
                }
                entry["quantization"] = {{"dtype", "uint8"}, {"min", lo}, {"scale", scale}};
            }
            weights.push_back(entry);
        }
        const std::size_t half = bytes.size() / 2;
        std::ofstream(dir.file("shard1"), std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(half));
        std::ofstream(dir.file("shard2"), std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data() + half), std::streamsize(bytes.size() - half));
        const json model = {{"format", "layers-model"}, {"modelTopology", topology},
                            {"weightsManifest", {{{"paths", {"shard1", "shard2"}}, {"weights", weights}}}}};
        std::ofstream(dir.file("model.json")) << model.dump();
        return dir.file("model.json");
    }
};

// Keras HWIO [kh][kw][in][out] -> OIHW.
std::vector<float> to_oihw(const std::vector<float>& hwio, int kh, int kw, int in_c, int out_c) {
    std::vector<float> out(hwio.size());
    for (int y = 0; y < kh; ++y)
        for (int x = 0; x < kw; ++x)
            for (int i = 0; i < in_c; ++i)
                for (int o = 0; o < out_c; ++o)
                    out[std::size_t(((o * in_c + i) * kh + y) * kw + x)] = hwio[std::size_t(((y * kw + x) * in_c + i) * out_c + o)];
    return out;
}

std::string convert_error(const convert::ConvertOptions& options) {
    try {
        convert::convert_weights(options);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

const double kEps = 0.001;

}  // namespace

TEST_CASE("the converted graph drops BN, relu, Dropout and the head, and keeps names and wiring") {
    TempDir dir;
    SyntheticModel m;
    convert::ConvertOptions o{m.write(dir, Encoding::float32), dir.file("out.tcw"), false, false, "synthetic", "",
                             std::make_pair(0.0, 1.0)};
    const convert::ConvertSummary s = convert::convert_weights(o);
    CHECK(s.layers_by_op.at("conv2d") == 2);
    const WeightFile f = WeightFile::open(o.out_path);
    std::vector<std::string> names;
    for (const LayerSpec& l : f.layers()) names.push_back(l.name);
    CHECK(names == std::vector<std::string>{"input_1", "conv2d_1", "conv2d_2", "max_pooling2d_1",
                                            "average_pooling2d_1", "mixed0", "flatten_1"});
    CHECK(f.layer("input_1").ints.at("height") == 9);
    CHECK(f.layer("conv2d_1").ints.at("relu") == 1);
    CHECK(f.layer("conv2d_1").strings.at("padding") == "same");
    CHECK(f.layer("conv2d_2").ints.at("relu") == 0);
    CHECK(f.layer("conv2d_2").ints.at("stride_h") == 2);
    CHECK(f.layer("conv2d_2").inputs == std::vector<std::string>{"conv2d_1"});
    CHECK(f.layer("max_pooling2d_1").inputs == std::vector<std::string>{"conv2d_1"});
    CHECK(f.layer("max_pooling2d_1").op == "maxpool2d");
    CHECK(f.layer("average_pooling2d_1").inputs == std::vector<std::string>{"conv2d_2"});
    CHECK(f.layer("average_pooling2d_1").op == "avgpool2d");
    CHECK(f.layer("average_pooling2d_1").strings.at("padding") == "same");
    CHECK(f.layer("mixed0").inputs == std::vector<std::string>{"max_pooling2d_1", "average_pooling2d_1"});
    CHECK(f.layer("flatten_1").op == "flatten");
    CHECK(f.tensor("conv2d_1/weights").dims == std::vector<std::int64_t>{4, 3, 3, 3});
    CHECK(f.tensor("conv2d_2/weights").dims == std::vector<std::int64_t>{5, 4, 3, 3});
    CHECK_FALSE(f.has_tensor("dense_1/weights"));
    CHECK(f.metadata().at("source") == "synthetic");
    CHECK(f.metadata().at("input_size") == "9");
    CHECK(f.metadata().at("input_scale") == "0.00392156862745098");

    CHECK(convert_error(o).find("already exists") != std::string::npos);
    o.force = true;
    o.keep_head = true;
    convert::convert_weights(o);
    const WeightFile h = WeightFile::open(o.out_path);
    const LayerSpec& dense = h.layer("dense_1");
    CHECK(dense.inputs == std::vector<std::string>{"flatten_1"});
    CHECK(dense.strings.at("activation") == "softmax");
    const TensorRef& dw = h.tensor("dense_1/weights");
    REQUIRE(dw.dims == std::vector<std::int64_t>{3, 144});
    const std::vector<float>& kernel = m.values["dense_1/kernel"];
    for (int o_ = 0; o_ < 3; ++o_)
        for (int i = 0; i < 144; ++i) CHECK(dw.data[o_ * 144 + i] == kernel[std::size_t(i * 3 + o_)]);
    CHECK(std::vector<float>(h.tensor("dense_1/bias").data, h.tensor("dense_1/bias").data + 3) == m.values["dense_1/bias"]);
}

TEST_CASE("folded weights equal the formula, and the folded conv equals conv then BN") {
    for (const Encoding encoding : {Encoding::float32, Encoding::uint8, Encoding::float16}) {
        CAPTURE(int(encoding));
        TempDir dir;
        SyntheticModel m;
        convert::ConvertOptions o{m.write(dir, encoding), dir.file("out.tcw"), false, false, "", "", std::make_pair(0.0, 1.0)};
        convert::convert_weights(o);
        const WeightFile f = WeightFile::open(o.out_path);
        auto& v = m.values;

        struct Case { const char* conv; const char* bn; int in_c, out_c, stride, pad; bool gamma, bias, relu; };
        for (const Case& c : {Case{"conv2d_1", "batch_normalization_1", 3, 4, 1, 1, false, false, true},
                              Case{"conv2d_2", "batch_normalization_2", 4, 5, 2, 0, true, true, false}}) {
            CAPTURE(c.conv);
            const std::string bn = c.bn;
            const std::vector<float> raw = to_oihw(v[std::string(c.conv) + "/kernel"], 3, 3, c.in_c, c.out_c);
            std::vector<double> k(std::size_t(c.out_c)), b(std::size_t(c.out_c));
            for (int oc = 0; oc < c.out_c; ++oc) {
                const double gamma = c.gamma ? v[bn + "/gamma"][std::size_t(oc)] : 1.0;
                const double conv_bias = c.bias ? v[std::string(c.conv) + "/bias"][std::size_t(oc)] : 0.0;
                k[std::size_t(oc)] = gamma / std::sqrt(double(v[bn + "/moving_variance"][std::size_t(oc)]) + kEps);
                b[std::size_t(oc)] = v[bn + "/beta"][std::size_t(oc)] +
                                     (conv_bias - v[bn + "/moving_mean"][std::size_t(oc)]) * k[std::size_t(oc)];
            }
            const TensorRef& w = f.tensor(std::string(c.conv) + "/weights");
            const TensorRef& bias = f.tensor(std::string(c.conv) + "/bias");
            REQUIRE(w.count == raw.size());
            const std::size_t per_out = raw.size() / std::size_t(c.out_c);
            for (std::size_t i = 0; i < raw.size(); ++i)
                CHECK(w.data[i] == doctest::Approx(raw[i] * k[i / per_out]).epsilon(1e-6));
            for (int oc = 0; oc < c.out_c; ++oc) CHECK(bias.data[oc] == doctest::Approx(b[std::size_t(oc)]).epsilon(1e-6));

            // Conv with the original weights, then BN (and relu) by hand, against the folded conv.
            std::mt19937 rng(99);
            std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
            std::vector<float> input(std::size_t(9 * 9 * c.in_c));
            for (float& x : input) x = dist(rng);
            kernels::Conv2dArgs a;
            a.input = input.data();
            a.in_h = a.in_w = 9;
            a.in_c = c.in_c;
            a.out_c = c.out_c;
            a.kernel_h = a.kernel_w = 3;
            a.stride_h = a.stride_w = c.stride;
            a.pad_top = a.pad_left = c.pad;
            a.out_h = a.out_w = c.stride == 1 ? 9 : 4;
            const std::vector<float> conv_bias = c.bias ? v[std::string(c.conv) + "/bias"] : std::vector<float>(std::size_t(c.out_c), 0.0f);
            std::vector<float> expected(std::size_t(a.out_h * a.out_w * c.out_c)), actual(expected.size());
            a.weights = raw.data();
            a.bias = conv_bias.data();
            a.output = expected.data();
            kernels::conv2d_direct_ref(a);
            for (std::size_t i = 0; i < expected.size(); ++i) {
                const std::size_t oc = i % std::size_t(c.out_c);
                const double gamma = c.gamma ? v[bn + "/gamma"][oc] : 1.0;
                double y = gamma * (expected[i] - v[bn + "/moving_mean"][oc]) /
                               std::sqrt(double(v[bn + "/moving_variance"][oc]) + kEps) + v[bn + "/beta"][oc];
                if (c.relu) y = std::max(y, 0.0);
                expected[i] = float(y);
            }
            a.weights = w.data;
            a.bias = bias.data;
            a.relu = f.layer(c.conv).ints.at("relu") == 1;
            a.output = actual.data();
            kernels::conv2d_direct_ref(a);
            for (std::size_t i = 0; i < expected.size(); ++i) CHECK(actual[i] == doctest::Approx(expected[i]).epsilon(1e-5).scale(1.0));
        }
    }
}

TEST_CASE("bad models are refused with a message naming the problem") {
    TempDir dir;
    auto error_for = [&](const std::function<void(json&)>& damage) {
        SyntheticModel m;
        const std::string path = m.write(dir, Encoding::uint8);
        json model = json::parse(std::ifstream(path));
        damage(model);
        std::ofstream(path) << model.dump();
        return convert_error({path, dir.file("out.tcw"), true, false, "", "", std::make_pair(0.0, 1.0)});
    };
    auto weight_named = [](json& model, const std::string& name) -> json& {
        for (json& w : model["weightsManifest"][0]["weights"])
            if (w["name"] == name) return w;
        throw std::runtime_error("test setup: no weight " + name);
    };
    auto layer_named = [](json& model, const std::string& name) -> json& {
        for (json& l : model["modelTopology"]["model_config"]["config"]["layers"])
            if (l["name"] == name) return l;
        throw std::runtime_error("test setup: no layer " + name);
    };

    CHECK(error_for([&](json& m) { weight_named(m, "batch_normalization_1/moving_mean")["name"] = "renamed"; })
              .find("'batch_normalization_1/moving_mean' is missing") != std::string::npos);
    CHECK(error_for([&](json& m) { weight_named(m, "conv2d_2/kernel")["shape"] = {3, 3, 5, 4}; })
              .find("expected [3,3,4,5]") != std::string::npos);
    CHECK(error_for([&](json& m) { weight_named(m, "conv2d_1/kernel")["dtype"] = "int32"; })
              .find("int32") != std::string::npos);
    CHECK(error_for([&](json& m) { weight_named(m, "conv2d_1/kernel")["quantization"]["dtype"] = "int4"; })
              .find("int4") != std::string::npos);
    CHECK(error_for([&](json& m) { weight_named(m, "dense_1/bias")["shape"] = {4}; })
              .find("shard files hold") != std::string::npos);
    CHECK(error_for([&](json& m) { layer_named(m, "max_pooling2d_1")["class_name"] = "SeparableConv2D"; })
              .find("does not support") != std::string::npos);
    CHECK(error_for([&](json& m) { layer_named(m, "mixed0")["config"]["axis"] = 1; })
              .find("axis") != std::string::npos);
    CHECK(error_for([&](json& m) { m.erase("weightsManifest"); }).find("weightsManifest") != std::string::npos);
    CHECK(error_for([&](json& m) { m["modelTopology"]["model_config"]["config"]["layers"] = 7; })
              .find("unexpected model.json structure") != std::string::npos);

    // A BN whose conv also feeds another layer cannot be folded.
    CHECK(error_for([&](json& m) {
              layer_named(m, "max_pooling2d_1")["inbound_nodes"] = json::parse(R"([[["conv2d_1", 0, 0, {}]]])");
          }).find("does not directly follow a Conv2D") != std::string::npos);

    {
        SyntheticModel m;
        const std::string path = m.write(dir, Encoding::float32);
        std::ofstream(dir.file("shard2"), std::ios::binary | std::ios::app) << "x";
        CHECK(convert_error({path, dir.file("out.tcw"), true, false, "", "", std::make_pair(0.0, 1.0)}).find("shard files hold") != std::string::npos);
        std::ofstream(path) << "{ not json";
        CHECK(convert_error({path, dir.file("out.tcw"), true, false, "", "", std::make_pair(0.0, 1.0)}).find("not valid JSON") != std::string::npos);
    }
    CHECK_FALSE(std::ifstream(dir.file("out.tcw.tmp")).good());
}

// What a flat grey image of `value` becomes at the network's input, through the converted
// file's metadata and the library's preprocessing.
float network_input_for(const std::string& tcw, std::uint8_t value) {
    const Preprocessing p = preprocessing_of(WeightFile::open(tcw));
    const ImageRgb8 image{p.size, p.size, std::vector<std::uint8_t>(std::size_t(p.size * p.size * 3), value)};
    std::vector<float> input(std::size_t(p.size * p.size * 3));
    preprocess(image, p, input.data());
    const auto [lo, hi] = std::minmax_element(input.begin(), input.end());
    REQUIRE(*lo == *hi);
    return *lo;
}

TEST_CASE("the input scaling comes from --input-range or a leading Rescaling layer, never a guess") {
    TempDir dir;
    SyntheticModel m;
    const std::string model_json = m.write(dir, Encoding::float32);
    convert::ConvertOptions o{model_json, dir.file("out.tcw"), true, false, "", "", std::make_pair(-1.0, 1.0)};
    convert::convert_weights(o);
    CHECK(network_input_for(o.out_path, 0) == doctest::Approx(-1.0).epsilon(1e-6));
    CHECK(network_input_for(o.out_path, 255) == doctest::Approx(1.0).epsilon(1e-6));
    CHECK(std::strtod(WeightFile::open(o.out_path).metadata().at("input_scale").c_str(), nullptr) == 2.0 / 255.0);

    o.input_range.reset();
    CHECK(convert_error(o).find("pass --input-range 0,1") != std::string::npos);

    // Keras's Rescaling(1/127.5, -1) between the input and the first conv says the same.
    json model = json::parse(std::ifstream(model_json));
    json& layers = model["modelTopology"]["model_config"]["config"]["layers"];
    layers.insert(layers.begin() + 1, layer("rescaling", "Rescaling", {{"scale", 1.0 / 127.5}, {"offset", -1.0}}, {"input_1"}));
    layers[2]["inbound_nodes"] = json::parse(R"([[["rescaling", 0, 0, {}]]])");
    std::ofstream(model_json) << model.dump();
    convert::convert_weights(o);
    CHECK(network_input_for(o.out_path, 0) == doctest::Approx(-1.0).epsilon(1e-6));
    CHECK(network_input_for(o.out_path, 255) == doctest::Approx(1.0).epsilon(1e-6));
    CHECK(WeightFile::open(o.out_path).layer("conv2d_1").inputs == std::vector<std::string>{"input_1"});

    o.input_range = std::make_pair(0.0, 1.0);
    CHECK(convert_error(o).find("drop --input-range") != std::string::npos);

    // Anywhere else a Rescaling is arithmetic the engine does not have.
    o.input_range.reset();
    model = json::parse(std::ifstream(m.write(dir, Encoding::float32)));
    json& plain = model["modelTopology"]["model_config"]["config"]["layers"];
    REQUIRE(plain[4]["name"] == "conv2d_2");
    plain.insert(plain.begin() + 4, layer("rescaling", "Rescaling", {{"scale", 0.5}}, {"activation_1"}));
    plain[5]["inbound_nodes"] = json::parse(R"([[["rescaling", 0, 0, {}]]])");
    std::ofstream(model_json) << model.dump();
    CHECK(convert_error(o).find("does not directly follow the input layer") != std::string::npos);
}

TEST_CASE("--uint8 keeps the source's uint8 tensors and loads to the float32 file bit for bit") {
    for (const Encoding encoding : {Encoding::uint8, Encoding::float32, Encoding::float16})
        for (const bool keep_head : {false, true}) {
            CAPTURE(int(encoding));
            CAPTURE(keep_head);
            TempDir dir;
            SyntheticModel m;
            const std::string model_json = m.write(dir, encoding);
            convert::ConvertOptions o{model_json, dir.file("f32.tcw"), false, keep_head, "", "", std::make_pair(0.0, 1.0)};
            const convert::ConvertSummary f32_summary = convert::convert_weights(o);
            o.out_path = dir.file("u8.tcw");
            o.uint8 = true;
            const convert::ConvertSummary u8_summary = convert::convert_weights(o);
            CHECK(f32_summary.format_version == 2);
            CHECK(u8_summary.format_version == 3);
            CHECK(u8_summary.checksum == f32_summary.checksum);
            CHECK(u8_summary.file_checksum != f32_summary.file_checksum);

            const WeightFile f32 = WeightFile::open(dir.file("f32.tcw"));
            // Deferred: biases are there at open, conv2d weights once make_values_readable() expands them.
            const WeightFile u8 = WeightFile::open(dir.file("u8.tcw"), DataCheck::deferred);
            CHECK(u8.expands_at_load());
            CHECK_FALSE(f32.expands_at_load());
            CHECK(u8.checksum() == f32.checksum());
            CHECK(u8.metadata() == f32.metadata());
            REQUIRE(u8.layers().size() == f32.layers().size());
            for (std::size_t i = 0; i < f32.layers().size(); ++i) {
                const LayerSpec &a = f32.layers()[i], &b = u8.layers()[i];
                CHECK(a.name == b.name);
                CHECK(a.op == b.op);
                CHECK(a.inputs == b.inputs);
                CHECK(a.ints == b.ints);
                CHECK(a.strings == b.strings);
                CHECK(a.tensors == b.tensors);
            }
            REQUIRE(u8.tensors().size() == f32.tensors().size());
            // The check expands in scratch; one tensor asked for is expanded alone, then all.
            u8.verify_data();
            const TensorRef& first_conv = *u8.graph().layers()[1].weights;
            REQUIRE(first_conv.name == f32.tensors()[0].name);
            u8.make_values_readable(first_conv);
            CHECK(std::memcmp(first_conv.data, f32.tensors()[0].data, first_conv.count * sizeof(float)) == 0);
            u8.make_values_readable();
            for (std::size_t i = 0; i < f32.tensors().size(); ++i) {
                const TensorRef &a = f32.tensors()[i], &b = u8.tensors()[i];
                CAPTURE(a.name);
                CHECK(a.name == b.name);
                CHECK(a.dims == b.dims);
                REQUIRE(a.count == b.count);
                CHECK(std::memcmp(a.data, b.data, a.count * sizeof(float)) == 0);
            }
        }
}
