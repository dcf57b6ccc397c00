// The network run in int8: the same plan as Network (network_plan.hpp), with u8 activations
// (one scale per tensor, from calibration), s8 weights (one scale per output channel, from the
// folded fp32 weights) and the int8 kernel table. The float input is quantized to u8 pixels
// (value = pixel * input_scale + input_offset, the weight file's preprocessing), four bytes an
// RGB pixel so the first convolution reads whole quads; a non-zero offset enters its bias,
// and is refused where padding or a pooling would take pixel 0 for zero. A concat's branches
// write into its slice with the concat's scale. The output layer, when only convolutions write
// it, is kept in float (the kernels' float output); pooled features are float either way.
// Only the convolutional trunk: a dense or flatten layer is refused.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "int8/int8_kernel_table.hpp"
#include "image/preprocess.hpp"
#include "model/network_plan.hpp"
#include "model/packed_weights.hpp"
#include "quant/activation_ranges.hpp"
#include "quant/int8_layer_weights.hpp"

namespace tinception {

class WeightFile;

// Bumped with any change that moves the int8 network's features (2: the RGB stem in int8 on
// the quantized input; 3: weights on the source's 8-bit levels kept exact), so cached int8
// bottlenecks of an earlier network are not taken for this one's.
constexpr int kInt8NetworkVersion = 3;

class Int8Network {
public:
    // `weights` must outlive the network. `ranges` must hold every layer up to output_layer
    // (calibrate_ranges); weights are quantized to the table's weight_max, or mapped from the
    // packed-weights cache as `cache` says (int8_layer_weights.hpp).
    Int8Network(const WeightFile& weights, const std::string& output_layer, const ActivationRanges& ranges,
                 const kernels::Int8KernelTable& table, const PackedCacheChoice& cache = {false, {}});
    ~Int8Network();
    Int8Network(const Int8Network&) = delete;
    Int8Network& operator=(const Int8Network&) = delete;

    ActivationShape input_shape() const;
    int feature_size() const { return feature_size_; }
    const kernels::Int8KernelTable& table() const { return table_; }
    // The cache file used or written (empty: none), and why it was rebuilt or not written.
    const std::string& cache_path() const { return layer_weights_->cache_path(); }
    const std::string& cache_note() const { return layer_weights_->cache_note(); }
    bool cache_mapped_every_layer() const { return layer_weights_->mapped_every_layer(); }
    // As Network::pool_layers: features become these layers pooled side by side.
    void pool_layers(const std::vector<std::string>& layers);
    // input: NHWC float [n][h][w][3], preprocessed; features: [n][feature_size()].
    void extract_features(const float* input, int n, float* features);
    // As Network's: while `seconds` is set, extract_features adds step i's time (its pooling
    // of features included) to (*seconds)[i], i indexing step_descriptions(); step 0's is the
    // input's quantization.
    void time_steps(std::vector<double>* seconds);
    std::vector<std::string> step_descriptions() const { return tinception::step_descriptions(plan_); }
    const NetworkPlan& plan() const { return plan_; }

private:
    struct Step;
    static constexpr int kPoolTasksPerThread = 4;

    void plan_buffers(int n);
    // The images [first, first + count) of the caller's batch that a run covers.
    struct Images {
        int first, count;
        int early_slot = 0;  // where image `first` sits in the early waves' buffers (below)
    };
    // The first image's byte (or float) of step i's channel slice; an output of the early
    // waves alone holds just the images of the current group (NetworkPlan::batched_from_wave),
    // image `first` at its early_slot.
    unsigned char* buffer_for(int step_index, Images images) const;
    void run_steps(int first_step, int end_step, const float* input, Images images, float* features);
    void quantize_input(const float* input, Images images);
    int stride_of(int step) const { return step == 0 ? input_stride_ : plan_.steps[std::size_t(step)].pixel_stride; }
    void run_conv(int i, Images images);
    void run_pool(int i, Images images);
    void pool_step(int i, Images images, float* features, int offset) const;

    const WeightFile& weights_;
    const kernels::Int8KernelTable& table_;
    Preprocessing input_;
    int input_stride_ = 4;  // bytes of a u8 input pixel: its channels, rounded up to a quad
    NetworkPlan plan_;
    std::vector<Step> steps_;
    std::size_t workspace_bytes_ = 0;
    AlignedBuffer arena_;
    std::vector<unsigned char*> slots_;
    unsigned char* workspaces_ = nullptr;  // thread_count() of workspace_bytes_, in the arena
    unsigned char* input_u8_ = nullptr;    // the quantized input of the planned batch, in the arena
    int planned_batch_ = 0, planned_threads_ = 0;
    int feature_size_ = 0;
    std::vector<int> pooled_offset_;  // per step, as Network's; empty: the output layer alone
    std::vector<double>* step_seconds_ = nullptr;
    std::unique_ptr<Int8LayerWeights> layer_weights_;  // what the steps' weights point into
};

}  // namespace tinception
