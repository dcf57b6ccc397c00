// The Inception v3 trunk of a tinception weight file, built from oneDNN primitives for the
// peer benchmark: the same layer graph and the same (BatchNorm-folded) weights, up to one
// output layer, global-average-pooled. Every convolution, pool and concat lets oneDNN choose
// its memory format (format `any`), with reorders only where a consumer wants another one.
#pragma once
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "weights/layer_graph.hpp"
#include "weights/weight_file.hpp"

namespace peer {

enum class ConvAlgorithm { direct, winograd };

const char* algorithm_name(ConvAlgorithm algorithm);  // "direct", "winograd"

class OnednnTrunk {
public:
    // Builds the layers `output_layer` needs for `batch` images. With winograd, every 3x3
    // stride-1 convolution asks for convolution_winograd and falls back to direct where oneDNN
    // has no implementation (winograd_refused() lists those). `weights` must outlive the trunk.
    OnednnTrunk(const tinception::WeightFile& weights, const std::string& output_layer, int batch,
                ConvAlgorithm algorithm, const dnnl::engine& engine);

    int batch() const { return batch_; }
    int feature_size() const { return feature_size_; }

    // input: NHWC [batch][h][w][c] as the weight file's input layer; features: [batch][feature_size()].
    void run(dnnl::stream& stream, const float* input, float* features);

    // What oneDNN dispatched: "<primitive kind> <impl_info_str>" -> how many primitives.
    const std::map<std::string, int>& implementations() const { return implementations_; }
    int winograd_candidates() const { return winograd_candidates_; }  // 3x3 stride-1 convolutions
    const std::vector<std::string>& winograd_refused() const { return winograd_refused_; }

private:
    struct Step {
        dnnl::primitive primitive;
        std::unordered_map<int, dnnl::memory> args;
    };

    void add_input(const tinception::Layer& layer);
    void add_conv(const tinception::Layer& layer, int index);
    void add_pool(const tinception::Layer& layer, int index);
    void add_concat(const tinception::Layer& layer, int index);
    void add_global_pool(int index);
    // Layer `index`'s output in format `want`: itself, or a reordered copy made once.
    dnnl::memory output_as(int index, const dnnl::memory::desc& want);
    void count(const char* kind, const dnnl::primitive_desc_base& pd);

    const tinception::WeightFile& weights_;
    dnnl::engine engine_;
    int batch_ = 0;
    ConvAlgorithm algorithm_ = ConvAlgorithm::direct;
    int feature_size_ = 0;
    std::vector<Step> steps_;
    std::unordered_map<int, dnnl::memory> outputs_;                                   // by layer index
    std::map<int, std::vector<std::pair<dnnl::memory::desc, dnnl::memory>>> copies_;  // reordered outputs
    dnnl::memory input_;     // the caller's NHWC input, handle set per run
    dnnl::memory features_;  // the caller's [batch][features], handle set per run
    std::map<std::string, int> implementations_;
    int winograd_candidates_ = 0;
    std::vector<std::string> winograd_refused_;
};

}  // namespace peer
