// A small network with Inception's shapes of trouble, and a classifier trained on nothing
// but random numbers, written as .tcw and .tcm files for the ONNX export tests: branches
// concatenated, 'same' pads that differ before and after, average pooling beside the edge,
// a layer the feature layer does not need and a dense head after it, as in the real file.
#pragma once
#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "classify/classifier_model.hpp"
#include "weights/weight_file.hpp"
#include "weights/weight_file_writer.hpp"

namespace tinception::testing {

inline constexpr int kTinyInputSize = 13;
inline constexpr const char* kTinyFeatureLayer = "mixed";

class TinyNetwork {
public:
    explicit TinyNetwork(std::uint32_t seed) : rng_(seed) {
        layer("input_1", "input", {}, {{"height", kTinyInputSize}, {"width", kTinyInputSize}, {"channels", 3}});
        conv("stem", "input_1", 8, 3, 3, 2, "valid", true);           // 13 -> 6
        conv("branch1x1", "stem", 4, 1, 1, 1, "same", true);
        conv("branch1x3", "stem", 5, 1, 3, 1, "same", false);
        conv("branch3x1", "branch1x3", 6, 3, 1, 1, "same", true);
        pool("avgpool2d", "branch_pool", "stem", 3, 1, "same");          // edge cells average fewer
        pool("maxpool2d", "branch_max", "stem", 3, 1, "same");
        layer("mixed_0", "concat", {"branch1x1", "branch3x1", "branch_pool", "branch_max"}, {});
        conv("reduce", "mixed_0", 7, 3, 3, 2, "same", true);            // 6 -> 3, pads 0 before, 1 after
        pool("maxpool2d", "reduce_pool", "mixed_0", 3, 2, "same");       // 6 -> 3, pads 0 and 1 too
        conv("unused", "mixed_0", 3, 1, 1, 1, "same", true);             // not on the way to the feature layer
        layer(kTinyFeatureLayer, "concat", {"reduce", "reduce_pool"}, {});
        layer("flatten", "flatten", {"unused"}, {});
        dense("predictions", "flatten", 4, 3 * 6 * 6);
    }

    int feature_size() const { return channels_.at(kTinyFeatureLayer); }

    void write(const std::string& path) const {
        WeightFileWriter writer;
        for (const LayerSpec& l : layers_) writer.add_layer(l);
        for (const Tensor& t : tensors_) writer.add_tensor(t.name, t.dims, t.values);
        writer.set_metadata("source", "onnx export test network");
        writer.set_metadata("input_size", std::to_string(kTinyInputSize));
        writer.write(path);
    }

    // A head over the feature layer with random weights, for the weight file `weights`.
    ClassifierModel classifier(const std::string& weights_path, std::uint32_t weights_checksum) {
        ClassifierModel m;
        m.labels = {"cat", "dog", "owl"};
        m.feature_layer = kTinyFeatureLayer;
        m.feature_size = feature_size();
        m.weights_checksum = weights_checksum;
        m.weights_path = weights_path;
        m.preprocessing.size = kTinyInputSize;
        m.head.n_classes = 3;
        m.head.feature_size = feature_size();
        m.head.weights = random_values(std::size_t(3) * feature_size(), 2.0f);
        m.head.bias = random_values(3, 0.5f);
        return m;
    }

    // A tensor's values, to change before write() (e.g. to stand for fine-tuned weights).
    std::vector<float>& values(const std::string& tensor) {
        for (Tensor& t : tensors_)
            if (t.name == tensor) return t.values;
        throw std::out_of_range("no tensor " + tensor);
    }
    std::vector<float> random_values(std::size_t count, float scale) {
        std::uniform_real_distribution<float> u(-scale, scale);
        std::vector<float> v(count);
        for (float& x : v) x = u(rng_);
        return v;
    }

private:
    struct Tensor {
        std::string name;
        std::vector<std::int64_t> dims;
        std::vector<float> values;
    };

    void layer(const std::string& name, const std::string& op, std::vector<std::string> inputs,
               std::map<std::string, std::int64_t> ints, std::map<std::string, std::string> strings = {},
               std::vector<std::string> tensors = {}) {
        if (op == "input") channels_[name] = int(ints.at("channels"));
        if (op == "concat")
            for (const std::string& in : inputs) channels_[name] += channels_.at(in);
        layers_.push_back({name, op, std::move(inputs), std::move(ints), std::move(strings), std::move(tensors)});
    }
    void conv(const std::string& name, const std::string& from, int out_c, int kernel_h, int kernel_w, int stride,
              const std::string& padding, bool relu) {
        const int in_c = channels_.at(from);
        channels_[name] = out_c;
        tensors_.push_back({name + "/weights", {out_c, in_c, kernel_h, kernel_w},
                            random_values(std::size_t(out_c) * in_c * kernel_h * kernel_w, 0.6f)});
        tensors_.push_back({name + "/bias", {out_c}, random_values(std::size_t(out_c), 0.2f)});
        layer(name, "conv2d", {from},
              {{"kernel_h", kernel_h}, {"kernel_w", kernel_w}, {"stride_h", stride}, {"stride_w", stride},
               {"relu", relu ? 1 : 0}},
              {{"padding", padding}}, {name + "/weights", name + "/bias"});
    }
    void pool(const std::string& op, const std::string& name, const std::string& from, int kernel, int stride,
              const std::string& padding) {
        channels_[name] = channels_.at(from);
        layer(name, op, {from}, {{"kernel_h", kernel}, {"kernel_w", kernel}, {"stride_h", stride}, {"stride_w", stride}},
              {{"padding", padding}});
    }
    void dense(const std::string& name, const std::string& from, int out, int in) {
        tensors_.push_back({name + "/weights", {out, in}, random_values(std::size_t(out) * in, 0.1f)});
        tensors_.push_back({name + "/bias", {out}, random_values(std::size_t(out), 0.1f)});
        layer(name, "dense", {from}, {}, {{"activation", "softmax"}}, {name + "/weights", name + "/bias"});
    }

    std::mt19937 rng_;
    std::vector<LayerSpec> layers_;
    std::vector<Tensor> tensors_;
    std::map<std::string, int> channels_;
};

// The network as `weights_path` and a classifier over it, random head, as `model_path`.
inline void write_tiny_files(TinyNetwork& network, const std::string& weights_path, const std::string& model_path) {
    network.write(weights_path);
    save_classifier_model(model_path, network.classifier(weights_path, WeightFile::open(weights_path).checksum()));
}

}  // namespace tinception::testing
