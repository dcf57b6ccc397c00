// A tiny random Inception-like graph for the fine-tuning tests: a frozen stem and one block
// above it with every op a span can hold (convolutions, max and average pooling, concat).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernel_fixtures.hpp"
#include "weights/layer_graph.hpp"

namespace tinception::testing {

// in 11x13x3 -> stem conv 3x3/2 valid (5x6x4), frozen; the span: b1 1x1 (3); b2a 1x3 (4) read
// by both b2b 3x1 (3) and b2c 1x3 (2); b3 max pool 3x3/1; b4 average pool 3x3/1 -> b4c 1x1 (2);
// mix = concat(b1, b2b, b2c, b3, b4c, stem) (18); top conv 3x3/2 valid (2x2x5). Every conv ReLU.
struct TinyGraph {
    std::vector<LayerSpec> layers;
    std::map<std::string, std::vector<float>> values;
    std::map<std::string, TensorRef> tensors;
    LayerGraph graph;
    float lowest_weight;

    // weights in [lowest_weight, 0.6]; a lowest weight >= 0 keeps every ReLU on (the inputs
    // are never negative), so a loss over the span has no kinks
    explicit TinyGraph(float lowest_weight = -0.6f) : lowest_weight(lowest_weight) {
        layers = {
            {"in", "input", {}, {{"height", 11}, {"width", 13}, {"channels", 3}}, {}, {}},
            conv("stem", "in", 3, 3, 3, 4, 2, "valid"),
            conv("b1", "stem", 1, 1, 4, 3, 1, "same"),
            conv("b2a", "stem", 1, 3, 4, 4, 1, "same"),
            conv("b2b", "b2a", 3, 1, 4, 3, 1, "same"),
            conv("b2c", "b2a", 1, 3, 4, 2, 1, "same"),
            {"b3", "maxpool2d", {"stem"}, window(3, 3, 1), {{"padding", "same"}}, {}},
            {"b4", "avgpool2d", {"stem"}, window(3, 3, 1), {{"padding", "same"}}, {}},
            conv("b4c", "b4", 1, 1, 4, 2, 1, "same"),
            {"mix", "concat", {"b1", "b2b", "b2c", "b3", "b4c", "stem"}, {}, {}, {}},
            conv("top", "mix", 3, 3, 18, 5, 2, "valid"),
        };
        graph = LayerGraph::checked(
            layers,
            [this](const std::string& name) -> const TensorRef* {
                const auto it = tensors.find(name);
                return it == tensors.end() ? nullptr : &it->second;
            },
            "tiny.tcw");
    }

    static std::map<std::string, std::int64_t> window(int kh, int kw, int stride) {
        return {{"kernel_h", kh}, {"kernel_w", kw}, {"stride_h", stride}, {"stride_w", stride}};
    }
    LayerSpec conv(const std::string& name, const std::string& from, int kh, int kw, int in_c, int out_c, int stride,
                   const char* padding) {
        std::map<std::string, std::int64_t> ints = window(kh, kw, stride);
        ints["relu"] = 1;
        tensor(name + "/weights", {out_c, in_c, kh, kw}, lowest_weight, 0.6f);
        // mostly positive biases keep most ReLUs on, away from their kink, and a few off
        tensor(name + "/bias", {out_c}, 0.1f, 0.8f);
        return {name, "conv2d", {from}, ints, {{"padding", padding}}, {name + "/weights", name + "/bias"}};
    }
    void tensor(const std::string& name, std::vector<std::int64_t> dims, float lo, float hi) {
        std::size_t count = 1;
        for (std::int64_t d : dims) count *= std::size_t(d);
        std::vector<float>& v = values[name];
        v.resize(count);
        fill_uniform(v.data(), count, std::uint32_t(values.size() * 7 + 1), lo, hi);
        TensorRef t;
        t.name = name;
        t.dims = std::move(dims);
        t.data = v.data();
        t.count = count;
        tensors[name] = t;
    }
};


}  // namespace tinception::testing
