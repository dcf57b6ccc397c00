// The ONNX export on a small synthetic network: the protobuf writer read back by our
// reader, the file against ONNX's structural rules, and the graph run node by node with
// ONNX's semantics (tests/onnx/onnx_node_runner) against our own network and head.
// ONNX Runtime on the real model is test_onnx_runtime.cpp's.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "check_close.hpp"
#include "error.hpp"
#include "export/onnx_export.hpp"
#include "export/protobuf_writer.hpp"
#include "kernel_table.hpp"
#include "model/network.hpp"
#include "onnx/onnx_model.hpp"
#include "onnx/onnx_node_runner.hpp"
#include "onnx/onnx_structure.hpp"
#include "onnx/protobuf_reader.hpp"
#include "onnx_export_fixture.hpp"
#include "temp_dir.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;
using namespace tinception::testing;
namespace fs = std::filesystem;

namespace {

std::vector<std::uint8_t> encoded(const ProtoMessage& m) {
    std::vector<std::uint8_t> bytes;
    m.write([&](const void* data, std::size_t size) {
        const auto* p = static_cast<const std::uint8_t*>(data);
        bytes.insert(bytes.end(), p, p + size);
    });
    return bytes;
}

// The graph run one node at a time. Transpose (only NHWC -> NCHW) and Flatten are plain
// copies written here, and so are a flip model's MatMul of [N, C, H, W] by a [W, W] matrix,
// Split of the batch into two halves, Add and Mul (by a one-value tensor); every other
// operator goes through the conformance test's runner.
onnx::Tensor run_graph(const onnx::Model& model, const onnx::Tensor& image) {
    std::map<std::string, onnx::Tensor> values;
    for (const onnx::Tensor& t : model.graph.initializers) values[t.name] = t;
    values[model.graph.inputs.at(0).name] = image;
    for (const onnx::Node& node : model.graph.nodes) {
        CAPTURE(node.name);
        onnx::Inputs in;
        for (const std::string& name : node.inputs) in.push_back(&values.at(name));
        onnx::Tensor out;
        if (node.op_type == "Transpose") {
            REQUIRE(node.ints_or("perm", {}) == std::vector<std::int64_t>{0, 3, 1, 2});
            const onnx::Tensor& x = *in.at(0);
            const std::int64_t n = x.dims[0], h = x.dims[1], w = x.dims[2], c = x.dims[3];
            out.data_type = onnx::kFloat;
            out.dims = {n, c, h, w};
            out.values.resize(x.values.size());
            for (std::int64_t b = 0; b < n; ++b)
                for (std::int64_t p = 0; p < h * w; ++p)
                    for (std::int64_t ch = 0; ch < c; ++ch)
                        out.values[std::size_t((b * c + ch) * h * w + p)] = x.values[std::size_t((b * h * w + p) * c + ch)];
        } else if (node.op_type == "Flatten") {
            REQUIRE(node.int_or("axis", 1) == 1);
            out = *in.at(0);
            std::int64_t inner = 1;
            for (std::size_t d = 1; d < out.dims.size(); ++d) inner *= out.dims[d];
            out.dims = {out.dims[0], inner};
        } else if (node.op_type == "MatMul" && in.at(0)->dims.size() == 4) {
            const onnx::Tensor &x = *in.at(0), &m = *in.at(1);
            const std::int64_t w = x.dims[3];
            REQUIRE(m.dims == std::vector<std::int64_t>{w, w});
            out.data_type = onnx::kFloat;
            out.dims = x.dims;
            out.values.assign(x.values.size(), 0.0f);
            for (std::size_t row = 0; row < x.values.size() / std::size_t(w); ++row)
                for (std::int64_t j = 0; j < w; ++j)
                    for (std::int64_t k = 0; k < w; ++k)
                        out.values[row * std::size_t(w) + std::size_t(j)] +=
                            x.values[row * std::size_t(w) + std::size_t(k)] * m.values[std::size_t(k * w + j)];
        } else if (node.op_type == "Split") {
            REQUIRE(node.int_or("axis", 0) == 0);
            REQUIRE(node.outputs.size() == 2);
            REQUIRE(node.inputs.size() == 1);  // no sizes: equal halves
            if (model.opset >= 18) REQUIRE(node.int_or("num_outputs", 0) == 2);
            const onnx::Tensor& x = *in.at(0);
            REQUIRE(x.dims[0] % 2 == 0);
            const std::size_t half = x.values.size() / 2;
            for (int part = 0; part < 2; ++part) {
                onnx::Tensor piece;
                piece.data_type = onnx::kFloat;
                piece.dims = x.dims;
                piece.dims[0] /= 2;
                piece.values.assign(x.values.begin() + long(part * half), x.values.begin() + long((part + 1) * half));
                values[node.outputs[std::size_t(part)]] = std::move(piece);
            }
            continue;
        } else if (node.op_type == "Add" || node.op_type == "Mul") {
            const onnx::Tensor &a = *in.at(0), &b = *in.at(1);
            REQUIRE((b.values.size() == a.values.size() || b.values.size() == 1));
            out = a;
            for (std::size_t i = 0; i < out.values.size(); ++i) {
                const float other = b.values[b.values.size() == 1 ? 0 : i];
                out.values[i] = node.op_type == "Add" ? a.values[i] + other : a.values[i] * other;
            }
        } else {
            out = onnx::run_node(node, in, kernels::reference_kernels(), model.opset);
        }
        REQUIRE(node.outputs.size() == 1);
        values[node.outputs[0]] = std::move(out);
    }
    return values.at(model.graph.outputs.at(0).name);
}

std::string metadata(const onnx::Model& m, const std::string& key) {
    for (const auto& [k, v] : m.metadata_props)
        if (k == key) return v;
    return "(absent)";
}

// `images` random NHWC images for the tiny network.
onnx::Tensor random_images(TinyNetwork& network, int images) {
    onnx::Tensor image;
    image.data_type = onnx::kFloat;
    image.dims = {images, kTinyInputSize, kTinyInputSize, 3};
    image.values = network.random_values(std::size_t(image.element_count()), 1.0f);
    return image;
}

// Columns reversed: each NHWC image mirrored left-right.
std::vector<float> mirrored_columns(const onnx::Tensor& image) {
    const std::int64_t rows = image.dims[0] * image.dims[1], w = image.dims[2], c = image.dims[3];
    std::vector<float> mirrored(image.values.size());
    for (std::int64_t p = 0; p < rows; ++p)
        for (std::int64_t x = 0; x < w; ++x)
            for (std::int64_t ch = 0; ch < c; ++ch)
                mirrored[std::size_t((p * w + x) * c + ch)] = image.values[std::size_t((p * w + (w - 1 - x)) * c + ch)];
    return mirrored;
}

// What our network on `weights` and `model`'s head give `image`, image after image; with the
// model's test-time flip, each image's probabilities averaged with its mirror's, as guess does.
std::vector<float> our_scores(const WeightFile& weights, const ClassifierModel& model, const onnx::Tensor& image) {
    const int images = int(image.dims[0]);
    const bool flip = model.augmentation == TestTimeAugmentation::flip;
    Network network(weights, kTinyFeatureLayer, kernels::reference_kernels());
    const std::size_t f = std::size_t(model.feature_size);
    std::vector<float> features(std::size_t(images) * f), features_mirrored, scores;
    network.extract_features(image.values.data(), images, features.data());
    if (flip) {
        features_mirrored.resize(features.size());
        network.extract_features(mirrored_columns(image).data(), images, features_mirrored.data());
    }
    for (int i = 0; i < images; ++i) {
        const std::vector<float> p = model.predict(features.data() + i * f, flip ? features_mirrored.data() + i * f : nullptr);
        scores.insert(scores.end(), p.begin(), p.end());
    }
    return scores;
}

struct TinyFiles {
    TempDir dir;
    TinyNetwork network{7};
    std::string weights_path = dir.file("tiny.tcw");
    std::unique_ptr<WeightFile> weights;
    ClassifierModel model;

    TinyFiles() {
        network.write(weights_path);
        weights = std::make_unique<WeightFile>(WeightFile::open(weights_path));
        model = network.classifier(weights_path, weights->checksum());
    }
};

// `model` exported at `batch` (0: dynamic) and `opset` into the file `name`, read back, with
// ONNX's structural rules checked.
onnx::Model exported(const TinyFiles& files, const ClassifierModel& model, int batch, std::int64_t opset,
                     const std::string& name) {
    OnnxExportOptions options;
    options.opset = opset;
    options.batch = batch;
    const std::string path = files.dir.file(name);
    write_onnx_model(build_onnx_model(model, trunk_from_weights(*files.weights), options), path, true);
    onnx::Model m = onnx::read_model_file(path);
    const std::vector<std::string> problems = onnx::structural_problems(m);
    CHECK_MESSAGE(problems.empty(), (problems.empty() ? std::string() : problems.front()));
    return m;
}

}  // namespace

TEST_CASE("protobuf writer: varints, strings, nested and viewed fields read back by the reader") {
    const std::vector<std::uint64_t> varints = {0, 1, 127, 128, 300, 1ull << 35, std::numeric_limits<std::uint64_t>::max()};
    const std::vector<float> payload = {1.5f, -2.0f, 3.25f};
    ProtoMessage inner;
    inner.string_field(1, "inner");
    inner.viewed_bytes_field(2, payload.data(), payload.size() * sizeof(float));
    inner.varint_field(3, 42);
    ProtoMessage outer;
    for (const std::uint64_t v : varints) outer.varint_field(1, v);
    outer.string_field(2, std::string("a\0b", 3));
    outer.message_field(536870911, std::move(inner));  // the largest field number
    outer.viewed_bytes_field(4, payload.data(), 0);

    const std::vector<std::uint8_t> bytes = encoded(outer);
    CHECK(bytes.size() == outer.size());
    onnx::ProtoReader r(bytes.data(), bytes.size(), "test");
    onnx::ProtoField f;
    for (const std::uint64_t v : varints) {
        REQUIRE(r.next(f));
        CHECK(f.number == 1);
        CHECK(f.value == v);
    }
    REQUIRE(r.next(f));
    CHECK(r.as_string(f) == std::string("a\0b", 3));
    REQUIRE(r.next(f));
    CHECK(f.number == 536870911);
    onnx::ProtoReader nested = r.as_message(f, "inner");
    onnx::ProtoField g;
    REQUIRE(nested.next(g));
    CHECK(nested.as_string(g) == "inner");
    REQUIRE(nested.next(g));
    std::vector<float> floats;
    nested.append_floats(g, floats);
    CHECK(floats == payload);
    REQUIRE(nested.next(g));
    CHECK(nested.as_int64(g) == 42);
    CHECK_FALSE(nested.next(g));
    REQUIRE(r.next(f));
    CHECK(f.number == 4);
    CHECK(f.size == 0);
    CHECK_FALSE(r.next(f));
}

TEST_CASE("export: the ONNX graph computes what our network and head compute") {
    TinyFiles files;
    for (const int batch : {0, 3}) {
        for (const std::int64_t opset : {std::int64_t(kMinOpset), std::int64_t(kMaxOpset)}) {
            CAPTURE(batch);
            CAPTURE(opset);
            const onnx::Model m = exported(files, files.model, batch, opset, "tiny.onnx");
            CHECK(m.opset == opset);
            CHECK(m.ir_version >= 7);
            CHECK(m.producer_name == "tinception");
            REQUIRE(m.graph.inputs.size() == 1);
            REQUIRE(m.graph.outputs.size() == 1);
            const std::int64_t n = batch ? batch : -1;
            CHECK(m.graph.inputs[0].name == "image");
            CHECK(m.graph.inputs[0].elem_type == onnx::kFloat);
            CHECK(m.graph.inputs[0].dims == std::vector<std::int64_t>{n, kTinyInputSize, kTinyInputSize, 3});
            CHECK(m.graph.outputs[0].name == "scores");
            CHECK(m.graph.outputs[0].dims == std::vector<std::int64_t>{n, 3});
            CHECK(metadata(m, "labels") == "cat\ndog\nowl");
            CHECK(metadata(m, "input_layout") == "NHWC");
            CHECK(metadata(m, "input_size") == std::to_string(kTinyInputSize));
            CHECK(metadata(m, "input_scale") == "0.00392156886");
            CHECK(metadata(m, "feature_layer") == kTinyFeatureLayer);
            CHECK(m.doc_string.find("NHWC") != std::string::npos);
            CHECK(m.doc_string.find("cat\ndog\nowl") != std::string::npos);
            // Only what the feature layer needs: the unused branch and the dense head stay out.
            for (const onnx::Tensor& t : m.graph.initializers) {
                CHECK(t.name.rfind("unused/", 0) != 0);
                CHECK(t.name.rfind("predictions/", 0) != 0);
            }
            bool excludes_padding = false;
            for (const onnx::Node& node : m.graph.nodes)
                if (node.op_type == "AveragePool") excludes_padding = node.int_or("count_include_pad", 1) == 0;
            CHECK(excludes_padding);

            const int images = 3;
            const onnx::Tensor image = random_images(files.network, images);
            const onnx::Tensor scores = run_graph(m, image);
            REQUIRE(scores.dims == std::vector<std::int64_t>{images, 3});
            const std::vector<float> expected = our_scores(*files.weights, files.model, image);
            // Probabilities of a head over sums of a few hundred products: float rounding only.
            check_close(expected.data(), scores.values.data(), expected.size(), Tolerance{1e-5, 0.0});
        }
    }
}

TEST_CASE("export: a fine-tuned model's convolutions go out in place of the weight file's") {
    TinyFiles files;
    // The tuned 'reduce' (the one convolution after mixed_0): other weights, other bias.
    std::vector<float> weights = files.network.values("reduce/weights");
    std::vector<float> bias = files.network.values("reduce/bias");
    for (float& w : weights) w *= -1.5f;
    for (float& b : bias) b += 0.25f;
    ClassifierModel model = files.model;
    model.tuned.from = "mixed_0";
    model.tuned.convolutions = {{"reduce", weights, bias, {}, {}}};
    const std::string path = files.dir.file("tuned.onnx");
    write_onnx_model(build_onnx_model(model, trunk_from_weights(*files.weights), {}), path, true);
    const onnx::Model m = onnx::read_model_file(path);

    // Expected: our network on a weight file holding the tuned values, and the same head.
    files.network.values("reduce/weights") = weights;
    files.network.values("reduce/bias") = bias;
    const std::string tuned_weights = files.dir.file("tuned.tcw");
    files.network.write(tuned_weights);
    const WeightFile tuned_file = WeightFile::open(tuned_weights);
    const onnx::Tensor image = random_images(files.network, 2);
    const onnx::Tensor scores = run_graph(m, image);
    const std::vector<float> expected = our_scores(tuned_file, model, image);
    REQUIRE(scores.values.size() == expected.size());
    check_close(expected.data(), scores.values.data(), expected.size(), Tolerance{1e-5, 0.0});
    // And not the frozen network's scores.
    const std::vector<float> untuned = our_scores(*files.weights, model, image);
    float largest_change = 0.0f;
    for (std::size_t i = 0; i < untuned.size(); ++i)
        largest_change = std::max(largest_change, std::abs(untuned[i] - scores.values[i]));
    CHECK(largest_change > 1e-3f);

    ClassifierModel short_bias = model;
    short_bias.tuned.convolutions[0].bias.pop_back();
    CHECK_THROWS_AS(build_onnx_model(short_bias, trunk_from_weights(*files.weights), {}), Error);
}

TEST_CASE("export: initialisers are written once and stream from the weight file unchanged") {
    TinyFiles files;
    const std::string path = files.dir.file("tiny.onnx");
    const OnnxModel built = build_onnx_model(files.model, trunk_from_weights(*files.weights), {});
    const OnnxExportSummary summary = write_onnx_model(built, path, false);
    CHECK(summary.bytes == fs::file_size(path));
    const onnx::Model m = onnx::read_model_file(path);
    CHECK(summary.nodes == m.graph.nodes.size());
    REQUIRE(summary.initializers == m.graph.initializers.size());
    for (const onnx::Tensor& t : m.graph.initializers) {
        CAPTURE(t.name);
        if (t.name.rfind("retrained/", 0) == 0) continue;
        const TensorRef& source = files.weights->tensor(t.name);
        CHECK(t.dims == source.dims);
        CHECK(std::vector<float>(source.data, source.data + source.count) == t.values);
    }
    CHECK_THROWS_WITH_AS(write_onnx_model(built, path, false), doctest::Contains("already exists"), Error);
    CHECK(fs::file_size(path) == summary.bytes);
    for (const auto& entry : fs::directory_iterator(files.dir.path()))
        CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("export: a --tta flip model's graph averages the image's and its mirror's probabilities") {
    TinyFiles files;
    ClassifierModel flip = files.model;
    flip.augmentation = TestTimeAugmentation::flip;
    REQUIRE(flip.preprocessing.align_corners);
    for (const int batch : {0, 2}) {
        for (const std::int64_t opset : {std::int64_t(kMinOpset), std::int64_t(kMaxOpset)}) {
            CAPTURE(batch);
            CAPTURE(opset);
            const onnx::Model m = exported(files, flip, batch, opset, "flip.onnx");
            CHECK(metadata(m, "test_time_augmentation") == "flip");
            const std::int64_t n = batch ? batch : -1;
            CHECK(m.graph.inputs[0].dims == std::vector<std::int64_t>{n, kTinyInputSize, kTinyInputSize, 3});
            CHECK(m.graph.outputs[0].dims == std::vector<std::int64_t>{n, 3});

            const onnx::Tensor image = random_images(files.network, 2);
            const onnx::Tensor scores = run_graph(m, image);
            REQUIRE(scores.dims == std::vector<std::int64_t>{2, 3});
            const std::vector<float> expected = our_scores(*files.weights, flip, image);
            check_close(expected.data(), scores.values.data(), expected.size(), Tolerance{1e-5, 0.0});
            // and not the unflipped model's: the mirror's half counts
            const std::vector<float> plain = our_scores(*files.weights, files.model, image);
            float largest_change = 0.0f;
            for (std::size_t i = 0; i < plain.size(); ++i)
                largest_change = std::max(largest_change, std::abs(plain[i] - scores.values[i]));
            CHECK(largest_change > 1e-4f);
        }
    }
    // Resizing without align_corners: mirroring after the resize is not mirroring the image.
    flip.preprocessing.align_corners = false;
    CHECK_THROWS_WITH_AS(build_onnx_model(flip, trunk_from_weights(*files.weights), {}),
                         doctest::Contains("align_corners=false"), Error);
}

TEST_CASE("export: refuses what it cannot express, naming the layer") {
    TinyFiles files;
    OnnxExportOptions options;
    options.opset = 12;
    CHECK_THROWS_WITH_AS(build_onnx_model(files.model, trunk_from_weights(*files.weights), options),
                         doctest::Contains("opset 12"), Error);
    ClassifierModel past_dense = files.model;
    past_dense.feature_layer = "predictions";
    CHECK_THROWS_WITH_AS(build_onnx_model(past_dense, trunk_from_weights(*files.weights), {}),
                         doctest::Contains("'flatten' (flatten)"), Error);
    ClassifierModel wrong_size = files.model;
    wrong_size.feature_size = 5;
    CHECK_THROWS_WITH_AS(build_onnx_model(wrong_size, trunk_from_weights(*files.weights), {}),
                         doctest::Contains("expects 5 features"), Error);
    ClassifierModel other_input = files.model;
    other_input.preprocessing.size = 299;
    CHECK_THROWS_WITH_AS(build_onnx_model(other_input, trunk_from_weights(*files.weights), {}),
                         doctest::Contains("expects 299x299x3"), Error);
    ClassifierModel missing = files.model;
    missing.feature_layer = "mixed_9";
    CHECK_THROWS_WITH_AS(build_onnx_model(missing, trunk_from_weights(*files.weights), {}),
                         doctest::Contains("no layer named 'mixed_9'"), Error);
}

TEST_CASE("structural check: each rule catches its own breach") {
    TinyFiles files;
    const std::string path = files.dir.file("tiny.onnx");
    write_onnx_model(build_onnx_model(files.model, trunk_from_weights(*files.weights), {}), path, true);
    const onnx::Model good = onnx::read_model_file(path);
    REQUIRE(onnx::structural_problems(good).empty());
    const auto first_problem = [](const onnx::Model& m) {
        const std::vector<std::string> problems = onnx::structural_problems(m);
        return problems.empty() ? std::string("(none)") : problems.front();
    };

    onnx::Model swapped = good;
    std::swap(swapped.graph.nodes[1], swapped.graph.nodes[2]);
    CHECK(first_problem(swapped).find("before it is defined") != std::string::npos);
    onnx::Model twice = good;
    twice.graph.initializers.push_back(twice.graph.initializers.front());
    CHECK(first_problem(twice).find("is named twice") != std::string::npos);
    onnx::Model untyped = good;
    untyped.graph.inputs[0].elem_type = 0;
    CHECK(first_problem(untyped).find("has no element type") != std::string::npos);
    onnx::Model shapeless = good;
    shapeless.graph.outputs[0].has_shape = false;
    CHECK(first_problem(shapeless).find("has no shape") != std::string::npos);
    onnx::Model orphan = good;
    orphan.graph.outputs[0].name = "nowhere";
    CHECK(first_problem(orphan).find("never computed") != std::string::npos);
    onnx::Model redefined = good;
    redefined.graph.nodes.back().outputs[0] = redefined.graph.nodes.front().outputs[0];
    CHECK(first_problem(redefined).find("defined twice") != std::string::npos);
}
