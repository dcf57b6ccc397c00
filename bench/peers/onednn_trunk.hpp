// The Inception v3 trunk of a tinception weight file, built from oneDNN primitives for the
// peer benchmark: the same layer graph and the same (BatchNorm-folded) weights, up to one
// output layer, global-average-pooled. Every convolution, pool and concat lets oneDNN choose
// its memory format (format `any`), with reorders only where a consumer wants another one.
// In fp32, bf16 (activations and weights bf16, fp32 sums) or int8 (u8 activations with one
// scale per tensor from calibration maxima, s8 weights with one scale per output channel).
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
enum class Precision { fp32, int8, bf16 };

const char* algorithm_name(ConvAlgorithm algorithm);  // "direct", "winograd"
const char* precision_name(Precision precision);      // "fp32", "int8", "bf16"

// Layer index -> the largest value of that layer's output (input layer excluded): what an
// int8 trunk maps to u8 255, from an fp32 trunk's layer_maxima() after running calibration images.
using LayerMaxima = std::map<int, float>;

class OnednnTrunk {
public:
    // Builds the layers `output_layer` needs for `batch` images. With winograd, every 3x3
    // stride-1 convolution asks for convolution_winograd and falls back to direct where oneDNN
    // has no implementation (winograd_refused() lists those). `weights` must outlive the trunk.
    // int8 needs `maxima` for every layer but the input, and keeps the first convolution (its
    // input is the 3-channel float image) in fp32, its output quantized by a reorder; the
    // tensors a pool or concat joins share one scale, the largest of their maxima. Winograd is
    // fp32 only: int8 and bf16 run direct whatever `algorithm` says.
    OnednnTrunk(const tinception::WeightFile& weights, const std::string& output_layer, int batch,
                ConvAlgorithm algorithm, const dnnl::engine& engine, Precision precision = Precision::fp32,
                const LayerMaxima& maxima = {});

    int batch() const { return batch_; }
    int feature_size() const { return feature_size_; }

    // input: NHWC [batch][h][w][c] as the weight file's input layer; features: [batch][feature_size()].
    void run(dnnl::stream& stream, const float* input, float* features);
    // fp32 trunks, after run(): each layer's largest output value over the batch.
    LayerMaxima layer_maxima() const;

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
    void join_scales(const std::vector<int>& layers);  // int8: scale_ of each layer, from maxima_ and the joins
    dnnl::memory::data_type activation_type() const;
    dnnl::memory::desc any_desc(int n, const tinception::ActivationShape& shape) const;    // activation type
    dnnl::memory::desc float_desc(int n, const tinception::ActivationShape& shape) const;  // f32
    // Layer `index`'s output in format `want`: itself, or a reordered copy made once.
    dnnl::memory output_as(int index, const dnnl::memory::desc& want);
    // int8: the float image as u8 pixels (value / input scale, rounded, saturated) in `want`.
    dnnl::memory quantized_input(const dnnl::memory::desc& want);
    void count(const char* kind, const dnnl::primitive_desc_base& pd);

    const tinception::WeightFile& weights_;
    dnnl::engine engine_;
    int batch_ = 0;
    ConvAlgorithm algorithm_ = ConvAlgorithm::direct;
    Precision precision_ = Precision::fp32;
    LayerMaxima maxima_;
    std::unordered_map<int, float> scale_;  // int8: layer index -> real value of one u8 step
    int feature_size_ = 0;
    std::vector<Step> steps_;
    std::unordered_map<int, dnnl::memory> outputs_;                                   // by layer index
    std::map<int, std::vector<std::pair<dnnl::memory::desc, dnnl::memory>>> copies_;  // reordered outputs
    dnnl::memory input_;     // the caller's NHWC input, handle set per run
    dnnl::memory features_;  // the caller's [batch][features], handle set per run
    int input_index_ = -1;
    std::map<std::string, int> implementations_;
    int winograd_candidates_ = 0;
    std::vector<std::string> winograd_refused_;
};

}  // namespace peer
