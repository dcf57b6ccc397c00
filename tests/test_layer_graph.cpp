// The graph checker (layer_graph.cpp) on layer lists built here: a valid graph gets its ops,
// windows and shapes, and each rule, broken alone, is refused with a message naming the layer.
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "error.hpp"
#include "weights/layer_graph.hpp"

using namespace tinception;

namespace {

// input 9x9x3 -> conv 3x3/2 valid (4) -> maxpool 3x3/1 same, and conv 1x1 (5) -> concat (9)
// -> avgpool 2x2/2 valid -> flatten (36) -> dense 36 -> 2 softmax.
struct Fixture {
    std::vector<LayerSpec> layers;
    std::map<std::string, TensorRef> tensors;

    Fixture() {
        layers = {
            {"in", "input", {}, {{"height", 9}, {"width", 9}, {"channels", 3}}, {}, {}},
            conv("c1", "in", 3, 2, "valid"),
            {"pool", "maxpool2d", {"c1"}, window(3, 1), {{"padding", "same"}}, {}},
            conv("c2", "c1", 1, 1, "valid"),
            {"mix", "concat", {"pool", "c2"}, {}, {}, {}},
            {"avg", "avgpool2d", {"mix"}, window(2, 2), {{"padding", "valid"}}, {}},
            {"flat", "flatten", {"avg"}, {}, {}, {}},
            {"head", "dense", {"flat"}, {}, {{"activation", "softmax"}}, {"head/weights", "head/bias"}},
        };
        tensor("c1/weights", {4, 3, 3, 3});
        tensor("c1/bias", {4});
        tensor("c2/weights", {5, 4, 1, 1});
        tensor("c2/bias", {5});
        tensor("head/weights", {2, 36});
        tensor("head/bias", {2});
    }

    static std::map<std::string, std::int64_t> window(int k, int stride) {
        return {{"kernel_h", k}, {"kernel_w", k}, {"stride_h", stride}, {"stride_w", stride}};
    }
    static LayerSpec conv(const std::string& name, const std::string& from, int k, int stride, const char* padding) {
        std::map<std::string, std::int64_t> ints = window(k, stride);
        ints["relu"] = 1;
        return {name, "conv2d", {from}, ints, {{"padding", padding}}, {name + "/weights", name + "/bias"}};
    }
    void tensor(const std::string& name, std::vector<std::int64_t> dims) {
        TensorRef t;
        t.name = name;
        t.dims = std::move(dims);
        tensors[name] = t;  // shapes only: the checker never reads values
    }
    LayerSpec& layer(const std::string& name) {
        for (LayerSpec& l : layers)
            if (l.name == name) return l;
        FAIL("no layer " << name);
        return layers[0];
    }

    LayerGraph check() const {
        return LayerGraph::checked(
            layers,
            [this](const std::string& name) -> const TensorRef* {
                const auto it = tensors.find(name);
                return it == tensors.end() ? nullptr : &it->second;
            },
            "g.tcw");
    }
    std::string error() const {
        try {
            check();
        } catch (const Error& e) {
            return e.what();
        }
        return "";
    }
};

}  // namespace

TEST_CASE("layer graph: a valid graph gets its ops, inputs, windows and shapes") {
    const Fixture f;
    const LayerGraph g = f.check();
    REQUIRE(g.layers().size() == 8);
    const Layer& c1 = g.layers()[1];
    CHECK(c1.op == LayerOp::conv2d);
    CHECK(c1.shape.h == 4);
    CHECK(c1.shape.w == 4);
    CHECK(c1.shape.c == 4);
    CHECK(c1.relu);
    CHECK(c1.weights == &f.tensors.at("c1/weights"));
    const Layer& pool = g.layers()[2];
    CHECK(pool.op == LayerOp::maxpool2d);
    CHECK(pool.pad_top == 1);
    CHECK(pool.pad_left == 1);
    CHECK(pool.shape.h == 4);
    CHECK(g.layers()[4].inputs == std::vector<int>{2, 3});
    CHECK(g.layers()[4].shape.c == 9);
    CHECK(g.layers()[5].shape.h == 2);
    CHECK(g.layers()[6].shape.c == 36);
    CHECK(g.layers()[7].activation == DenseActivation::softmax);
    CHECK(g.layers()[7].shape.c == 2);
    CHECK(g.index_of("mix") == 4);
    CHECK(g.index_of("absent") == -1);
    CHECK(std::string(op_name(LayerOp::avgpool2d)) == "avgpool2d");
}

TEST_CASE("layer graph: each rule, broken alone, is refused naming the file and layer") {
    struct Broken {
        const char* rule;
        std::function<void(Fixture&)> change;
        const char* layer;     // named in the message
        const char* expected;  // also in the message
    };
    const Broken cases[] = {
        {"empty name", [](Fixture& f) { f.layer("flat").name = ""; }, "", "empty name"},
        {"unknown op", [](Fixture& f) { f.layer("flat").op = "batch_norm"; }, "flat", "unknown op 'batch_norm'"},
        {"input not listed before", [](Fixture& f) { f.layer("c2").inputs = {"pool_later"}; }, "c2",
         "'pool_later', which is not a layer listed before it"},
        {"input that comes later", [](Fixture& f) { f.layer("c1").inputs = {"pool"}; }, "c1",
         "'pool', which is not a layer listed before it"},
        {"two inputs to a conv", [](Fixture& f) { f.layer("c2").inputs = {"c1", "in"}; }, "c2", "2 inputs, expected 1"},
        {"an input with an input", [](Fixture& f) { f.layers.insert(f.layers.begin() + 1, {"in2", "input", {"in"}, {}, {}, {}}); },
         "in2", "1 inputs, expected 0"},
        {"a concat of nothing", [](Fixture& f) { f.layer("mix").inputs = {}; }, "mix", "0 inputs, expected 1 or more"},
        {"a second input layer",
         [](Fixture& f) {
             f.layers.push_back({"in2", "input", {}, {{"height", 1}, {"width", 1}, {"channels", 1}}, {}, {}});
         },
         "in2", "second input layer"},
        {"missing integer attribute", [](Fixture& f) { f.layer("c1").ints.erase("kernel_h"); }, "c1",
         "lacks the integer attribute 'kernel_h'"},
        {"stride 0", [](Fixture& f) { f.layer("pool").ints["stride_w"] = 0; }, "pool", "stride_w = 0, expected 1..65536"},
        {"height past the limit", [](Fixture& f) { f.layer("in").ints["height"] = 70000; }, "in",
         "height = 70000, expected 1..65536"},
        {"missing padding", [](Fixture& f) { f.layer("avg").strings.clear(); }, "avg",
         "lacks the string attribute 'padding'"},
        {"unknown padding", [](Fixture& f) { f.layer("c2").strings["padding"] = "reflect"; }, "c2",
         "padding 'reflect', expected same or valid"},
        {"valid window larger than the input", [](Fixture& f) { f.layer("avg").ints["kernel_w"] = 5; }, "avg",
         "2x5 window that does not fit its 4x4 input"},
        {"relu not 0 or 1", [](Fixture& f) { f.layer("c1").ints["relu"] = 2; }, "c1", "relu = 2, expected 0 or 1"},
        {"one tensor for a conv", [](Fixture& f) { f.layer("c2").tensors.pop_back(); }, "c2",
         "names 1 tensors, expected 2"},
        {"missing weights", [](Fixture& f) { f.tensors.erase("c2/weights"); }, "c2",
         "uses tensor 'c2/weights', which the file does not hold"},
        {"missing bias", [](Fixture& f) { f.tensors.erase("head/bias"); }, "head",
         "uses tensor 'head/bias', which the file does not hold"},
        {"conv weights of rank 2", [](Fixture& f) { f.tensor("c1/weights", {4, 27}); }, "c1", "expected rank 4"},
        {"conv weights with no outputs", [](Fixture& f) { f.tensor("c1/weights", {0, 3, 3, 3}); }, "c1", "1..65536 outputs"},
        {"conv weights for other input channels", [](Fixture& f) { f.tensor("c2/weights", {5, 3, 1, 1}); }, "c2",
         "tensor 'c2/weights' of shape 5x3x1x1, expected 5x4x1x1"},
        {"conv weights for another kernel", [](Fixture& f) { f.tensor("c1/weights", {4, 3, 1, 3}); }, "c1",
         "shape 4x3x1x3, expected 4x3x3x3"},
        {"conv bias of another length", [](Fixture& f) { f.tensor("c1/bias", {5}); }, "c1",
         "tensor 'c1/bias' of shape 5, expected 4"},
        {"concat of different sizes", [](Fixture& f) { f.layer("mix").inputs = {"pool", "in"}; }, "mix",
         "different sizes (4x4 and 9x9)"},
        {"concat past the channel limit",
         [](Fixture& f) {
             f.layers.resize(1);
             f.layer("in").ints = {{"height", 1}, {"width", 1}, {"channels", 65536}};
             f.layers.push_back({"wide", "concat", std::vector<std::string>(4097, "in"), {}, {}, {}});
         },
         "wide", "more channels than the limit"},
        {"activation past the limit",
         [](Fixture& f) { f.layer("in").ints = {{"height", 65536}, {"width", 65536}, {"channels", 3}}; f.layers.resize(1); },
         "in", "floats per image, more than the limit of 268435456"},
        {"dense on a 2-D input", [](Fixture& f) { f.layer("head").inputs = {"avg"}; }, "head",
         "reads a 2x2 input; it needs a flat one"},
        {"unknown activation", [](Fixture& f) { f.layer("head").strings["activation"] = "gelu"; }, "head",
         "activation 'gelu', expected linear, relu or softmax"},
        {"dense weights for another input", [](Fixture& f) { f.tensor("head/weights", {2, 35}); }, "head",
         "shape 2x35, expected 2x36"},
        {"a name used twice", [](Fixture& f) { f.layer("avg").name = "pool"; }, "pool", "appears twice in the graph"},
    };
    for (const Broken& b : cases) {
        CAPTURE(b.rule);
        Fixture f;
        b.change(f);
        const std::string message = f.error();
        CHECK_MESSAGE(message.find("g.tcw: layer '" + std::string(b.layer) + "'") != std::string::npos, message);
        CHECK_MESSAGE(message.find(b.expected) != std::string::npos, message);
    }
}
