// Bottleneck features for decoded images: preprocessing from the weight file's metadata,
// then the network up to one named layer, global-average-pooled; or a layer set such as
// "mixed5,mixed7": each layer pooled, side by side in the order named, from one pass.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "image/image.hpp"
#include "image/preprocess.hpp"
#include "quant/activation_ranges.hpp"

namespace tinception {

class WeightFile;
class Network;
class PackedWeights;
struct PackedCacheChoice;
class TunedFeatures;
struct TunedLayers;
class LayerGraph;
class Int8Network;
namespace kernels {
struct KernelTable;
}

// Where the fp32 network's packed weights come from: `make` is called the first time the fp32
// network is needed, so an extractor switched to int8 or bf16 before it runs never packs,
// maps or checks fp32 weights it would not use.
struct PackedWeightsSource {
    const kernels::KernelTable* table;  // the fp32 table they are packed for
    std::function<std::shared_ptr<const PackedWeights>()> make;
};

// "mixed5,mixed7" -> {"mixed5", "mixed7"}; a single name -> itself. Throws Error for an empty
// name or one named twice.
std::vector<std::string> split_layer_set(const std::string& layers);
// Features the layer set gives on `graph`: the sum of the layers' channels; -1 when a layer
// is not in the graph.
int layer_set_feature_size(const LayerGraph& graph, const std::string& layers);

// What the weight file's metadata says the network's input is; the one source of preprocessing.
Preprocessing preprocessing_of(const WeightFile& weights);

class FeatureExtractor {
public:
    // Opens (mmaps and checks) the weight file and builds the layers `layer` needs; `layer`
    // may be a layer set ("mixed5,mixed7"), and layer() then returns it as given. The tensor
    // data is checked before a network first uses it (WeightFile's DataCheck::deferred).
    FeatureExtractor(const std::string& weights_path, const std::string& layer);
    // The same over a weight file already open, which other extractors may share.
    FeatureExtractor(std::shared_ptr<const WeightFile> weights, const std::string& layer);
    // The same with packed weights other extractors share; `packed` must be of `weights`.
    FeatureExtractor(std::shared_ptr<const WeightFile> weights, std::shared_ptr<const PackedWeights> packed,
                     const std::string& layer);
    // The same with the convolutions after tuned.from run with the tuned weights: the network
    // (and its packed weights) stops at tuned.from, the tuned span runs on from there, in memory,
    // so a packed-weights cache only ever holds the file's own weights; layers of a set at or
    // before tuned.from are pooled on the way. Empty `tuned`: as above.
    FeatureExtractor(std::shared_ptr<const WeightFile> weights, std::shared_ptr<const PackedWeights> packed,
                     const std::string& layer, const TunedLayers& tuned);
    // The same with the packed weights made by `packed` when the fp32 network first runs. Every
    // constructor checks the layers and the input now, and builds the fp32 network when needed.
    FeatureExtractor(std::shared_ptr<const WeightFile> weights, PackedWeightsSource packed, const std::string& layer,
                     const TunedLayers& tuned);
    ~FeatureExtractor();
    FeatureExtractor(FeatureExtractor&&) noexcept;
    FeatureExtractor& operator=(FeatureExtractor&&) noexcept;

    const std::string& layer() const;
    int feature_size() const;
    const Preprocessing& preprocessing() const;
    std::uint32_t weights_checksum() const;  // WeightFile::checksum(): tensors, graph and metadata
    const WeightFile& weights() const;
    const Network& network() const;  // the fp32 network, built now if it was not yet
    // The layer the network's pass ends at: the deepest of the set, or where a tuned span starts.
    const std::string& network_end() const { return network_end_; }
    // From now on the features come from the int8 network (quant/int8_network.hpp) with these
    // activation ranges (calibrate_ranges up to at least this extractor's deepest layer). A
    // fine-tuned span is refused: it runs in fp32 only. Its quantized weights are made in
    // memory, or come from the packed-weights cache as `cache` says (a file of their own,
    // keyed by the int8 table).
    void use_int8(const ActivationRanges& ranges);
    void use_int8(const ActivationRanges& ranges, const PackedCacheChoice& cache);
    // From now on the features come from the network run with the bf16 convolution table
    // (kernels/bf16): refused, naming the reason, on a CPU without AVX-512 BF16 and for a
    // fine-tuned span. Its weights are packed in memory, or come from the packed-weights
    // cache as `cache` says (a file of their own, keyed by the bf16 table).
    void use_bf16();
    void use_bf16(const PackedCacheChoice& cache);
    void use_fp32();  // back to the fp32 network
    // Builds the network the extractor runs now if it is not built yet (only the fp32 one waits
    // for its first run): its memory is taken, and damaged weights refused, here.
    void prepare() { if (!int8_ && !bf16_) network(); }
    const char* precision() const { return int8_ ? "int8" : bf16_ ? "bf16" : "fp32"; }
    const ActivationRanges& int8_ranges() const { return int8_ranges_; }  // empty in fp32

    // Row-major [images.size()][feature_size()].
    std::vector<float> extract(const std::vector<ImageRgb8>& images);
    // The same for `count` images into features[count][feature_size()].
    void extract(const ImageRgb8* images, std::size_t count, float* features);
    // The same for each image and its left-right mirror, into features and mirrored_features
    // (each [count][feature_size()]): image and mirror share a batch, so a single image still
    // runs at batch 2, image by image across threads. Equal to the bit to extracting them apart.
    void extract_with_mirrors(const ImageRgb8* images, std::size_t count, float* features, float* mirrored_features);
    // Already preprocessed input, NHWC [n][size][size][3].
    std::vector<float> extract_preprocessed(const float* input, int n);

private:
    void run(const float* input, int n, float* features);  // one batch of at most kNetworkBatch

    std::shared_ptr<const WeightFile> weights_;
    PackedWeightsSource packed_source_;
    std::string network_end_;
    std::vector<std::string> fp32_pooled_;  // what the fp32 network pools; empty: its output alone
    mutable std::unique_ptr<Network> network_;  // the fp32 network, null until first needed
    std::unique_ptr<TunedFeatures> tuned_;  // null: nothing tuned
    std::unique_ptr<Int8Network> int8_;     // null: fp32 or bf16
    std::unique_ptr<Network> bf16_;         // null: fp32 or int8
    ActivationRanges int8_ranges_;
    std::vector<float> activations_;        // the network's output for one batch, when tuned_
    std::vector<float> frozen_;             // the frozen layers of the set, pooled, when tuned_
    std::string layer_;
    int feature_size_ = 0;
    Preprocessing preprocessing_;
    std::vector<float> input_;  // one batch of preprocessed images, kept between calls
};

}  // namespace tinception
