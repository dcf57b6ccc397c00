// A network built from a weight file's layer list and run up to one named layer.
// Generic over the ops the file describes; only the layers the output needs are built. Each
// network owns its activations and scratch; packed weights are shared (packed_weights.hpp).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "kernel_table.hpp"
#include "layers/conv2d_workspace.hpp"
#include "model/packed_weights.hpp"
#include "model/network_plan.hpp"

namespace tinception {

class WeightFile;

class Network {
public:
    // Plans the layers `output_layer` needs (the weight file checked the graph at open; an
    // unknown output layer is an Error), with the conv weights of `packed`, shared with every
    // other network built on it, and allocates activations for one image.
    Network(std::shared_ptr<const PackedWeights> packed, const std::string& output_layer);
    // The same with packed weights of its own. `weights` must outlive the network.
    Network(const WeightFile& weights, const std::string& output_layer, const kernels::KernelTable& table);
    ~Network();
    Network(const Network&) = delete;
    Network& operator=(const Network&) = delete;

    const std::string& output_layer() const { return output_layer_; }
    ActivationShape input_shape() const;
    ActivationShape output_shape() const;
    int feature_size() const { return feature_size_; }
    std::int64_t multiply_adds_per_image() const;  // conv and dense layers only
    const kernels::KernelTable& kernel_table() const { return table_; }
    const std::shared_ptr<const PackedWeights>& packed_weights() const { return packed_; }
    const NetworkPlan& plan() const { return plan_; }  // its steps, waves and buffers

    // input: NHWC [n][h][w][c] as input_shape(); features: [n][feature_size()], the output
    // layer global-average-pooled (or the layers pool_layers names, side by side).
    void extract_features(const float* input, int n, float* features);
    // The output layer's activations themselves, not pooled: [n][h][w][c] as output_shape()
    // (what fine-tuning starts from, finetune/fine_tuner.hpp); with `pooled`, the features
    // extract_features gives as well, from the same pass.
    void extract_activations(const float* input, int n, float* activations, float* pooled = nullptr);

    // Features become the pooled outputs of `layers`, concatenated in the order given, all taken
    // in the one pass up to the output layer. Each must be the output layer or one it needs;
    // otherwise, or for a repeated name, an Error.
    void pool_layers(const std::vector<std::string>& layers);

    // Per-step wall time, for profiling: while `seconds` is set, extract_features adds step
    // i's time to (*seconds)[i], i indexing step_descriptions(). nullptr turns it off.
    void time_steps(std::vector<double>* seconds);
    // Called after every step of extract_features with the layer's fp32 output ([n][h][w] pixels
    // pixel_stride floats apart): what int8 calibration reads. An empty function turns it off.
    using StepObserver = std::function<void(const Layer& layer, const float* output, int n, int pixel_stride)>;
    void observe_steps(StepObserver observer) { observer_ = std::move(observer); }
    // One line per step: layer name, op and output shape.
    std::vector<std::string> step_descriptions() const;

private:
    struct Step;

    void plan_buffers(int n);
    float* buffer_for(int step_index);
    // The images [first, first + count) of the caller's batch that a run covers.
    struct Batch {
        const float* input;  // the whole batch's
        int first, count;
    };
    float* image_buffer(int step_index, const Batch& batch);
    const float* input_of(int step_index, const Batch& batch);  // the caller's input for step 0
    void pool_step(int step_index, const Batch& batch, float* features);
    kernels::Conv2dArgs conv_step_args(int step_index, const Batch& batch);
    kernels::Pool2dArgs pool_step_args(int step_index, const Batch& batch);
    kernels::Pool2dFn pool_kernel(int step_index) const;
    // A 1x1 convolution fed by a stride-1 average pooling alone (Inception's pool branches)
    // runs the other way round: the pooling step computes the convolution, without bias or
    // ReLU, on the pooling's input into the pooling's own buffer, and the convolution step
    // pools that and adds the bias and ReLU. Both are linear and the pool's weights sum to
    // one, so the values are the same up to rounding, and the pooling runs over the
    // convolution's fewer channels (32 to 192 where there were 192 to 2048). Not while a step
    // observer or a pooled feature needs the pooling's own output.
    bool pools_after_conv(int step_index) const;
    bool runs_conv(int step_index) const;  // a conv2d's kernel, for the layer or its partner
    bool runs_pool(int step_index) const;
    float* unpooled_buffer(int pool_step, const Batch& batch);  // the convolution's output, before pooling
    kernels::Conv2dArgs conv_before_pool_args(int pool_step, const Batch& batch);
    kernels::Pool2dArgs pool_after_conv_args(int conv_step, const Batch& batch);
    kernels::Conv2dArgs run_conv_args(int step_index, const Batch& batch);
    kernels::Pool2dArgs run_pool_args(int step_index, const Batch& batch);
    void run_step(int step_index, const Batch& batch);
    void run_wave(int first_step, int end_step, const Batch& batch);
    void run_waves(int first_wave, int end_wave, const Batch& batch, float* features);

    std::shared_ptr<const PackedWeights> packed_;
    const WeightFile& weights_;
    const kernels::KernelTable& table_;
    std::string output_layer_;
    NetworkPlan plan_;
    std::vector<Step> steps_;          // plan_.steps with what the executor adds (packed weights)
    // Per step: the other step of a pooling and the 1x1 convolution it feeds alone (see
    // pools_after_conv), -1 for the rest.
    std::vector<int> pool_partner_;
    std::size_t workspace_bytes_ = 0;  // one thread's convolution scratch, the largest any layer needs
    AlignedBuffer arena_;              // the slots and the workspaces, from one allocation
    std::vector<float*> slots_;        // one per planned slot, for planned_batch_ images
    Conv2dWorkspaces workspaces_;      // in the arena, one per thread
    int planned_batch_ = 0;
    std::vector<double>* step_seconds_ = nullptr;
    StepObserver observer_;
    int feature_size_ = 0;
    // Per step, where its pooled output starts in a feature row; -1: not pooled. Empty: the
    // output layer alone.
    std::vector<int> pooled_offset_;
    std::vector<float> pooled_;  // one pooled layer for a batch, before it is placed in the rows
    struct WaveTask {
        int layer;  // in the wave
        int task;   // of that layer
    };
    std::vector<WaveTask> wave_tasks_;  // run_wave's task order, kept to spare an allocation per wave
};

}  // namespace tinception
