// Plans a run of the checked graph up to one output layer: which layers it needs, in which
// wave each runs (a layer's wave is one past the latest of its inputs', so the layers of a
// wave, such as the first convolutions of an Inception block's branches, need nothing from
// each other and may run at once), where each output lives (a branch writes straight into
// its slice of the concat that consumes it), and which buffer slot holds it (a slot is reused
// only in a wave after the last one reading it, so a wave run concurrently is safe). Plain
// data; running the plan is network.cpp's job.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "weights/layer_graph.hpp"

namespace tinception {

struct PlannedStep {
    const Layer* layer = nullptr;
    std::vector<int> inputs;  // step indices
    // The output is channels [channel_offset, channel_offset + c) of the buffer of step
    // `owner`, whose pixels are pixel_stride floats apart (the owner's channel count).
    int owner = -1;
    int channel_offset = 0;
    int pixel_stride = 0;
    int slot = -1;  // storage slot, for steps that own their buffer; -1 for the input (the caller's)
    int wave = 0;   // 0 for the input; one past the latest wave among the inputs
    // The output lives in the early waves only (before NetworkPlan::batched_from_wave), which
    // run a few images at a time: its buffer holds those images at its start.
    bool early_only = false;
};

struct NetworkPlan {
    // By wave, then in the graph's order within a wave: the input first, the output last (alone
    // in the last wave: every other step is one it needs).
    std::vector<PlannedStep> steps;
    std::vector<std::size_t> slot_floats;  // per slot, floats for one image
    // Wave w is steps [wave_starts[w], wave_starts[w + 1]); the last entry is steps.size().
    std::vector<int> wave_starts;
    // Waves [1, batched_from_wave) hold the layers of at least kBatchedBelowPixels output
    // pixels, which an executor may run a few images at a time for the whole batch, then the
    // rest batched. A buffer written there and read later holds every image of the batch and
    // its slot is kept from the first wave on, so that no early buffer shares it.
    int batched_from_wave = 1;
};

// Elements (floats, or bytes in int8) from the start of step s's slice to image `first_image`
// of the current run: a slot holds [n][h][w][pixel_stride], and an output of the early waves
// alone holds just the images of the current run, from its start.
inline std::size_t image_offset(const PlannedStep& s, int first_image) {
    const std::size_t image = s.early_only ? 0 : std::size_t(first_image);
    return image * std::size_t(s.layer->shape.h) * std::size_t(s.layer->shape.w) * std::size_t(s.pixel_stride);
}

// How the fp32 executor runs a batch of n images on `threads` threads: the early waves
// [1, batched_from_wave) a group of images at a time, as many as there are threads (each
// thread whole images, so that an image's early activations stay in its core's caches; a
// batch's did not), then waves [batched_from_wave, end) on all n. early(first, count) and
// batched(from_wave) run those; where n fits in one group, batched(1) runs everything. Each
// image's values are the same either way: a layer's cut never changes a sum. (int8 uses it
// only while timing its steps; otherwise its threads take early images from one queue.)
template <class Early, class Batched>
void run_in_image_groups(const NetworkPlan& plan, int n, int threads, Early early, Batched batched) {
    const int group = n < threads ? n : threads;
    if (group >= n) return batched(1);
    for (int first = 0; first < n; first += group) early(first, n - first < group ? n - first : group);
    batched(plan.batched_from_wave);
}

// 35x35 outputs and larger are early; from the first 17x17 on, batched.
constexpr long kBatchedBelowPixels = 1000;

// Throws Error naming the file and listing the concatenated blocks when `output_layer` is not
// in the graph.
NetworkPlan plan_network(const LayerGraph& graph, const std::string& output_layer, const std::string& path);

// Where `layers`, pooled side by side in their order, go in the features: per step, the
// offset of its channels (-1: not pooled), and the features' size. Throws Error for a layer
// the plan does not compute on the way to its output, or one named twice.
struct PooledOffsets {
    std::vector<int> offsets;
    int size = 0;
};
PooledOffsets pooled_offsets(const NetworkPlan& plan, const std::vector<std::string>& layers, const std::string& path);

// Per step, the other step of a pair that may run the other way round (network.hpp,
// Network::pools_after_conv): a stride-1 average pooling whose only reader is a 1x1 stride-1
// unpadded convolution it alone feeds, with no more output channels than the pooling has (the
// pooling's buffer then holds the convolution's output); -1 for every other step.
std::vector<int> pool_conv_partners(const NetworkPlan& plan);

// One line per step: layer name, op and output shape (per-layer timings print them).
std::vector<std::string> step_descriptions(const NetworkPlan& plan);

// Per step, the multiply-adds one image takes in a direct convolution or dense layer; 0 for
// the other ops.
std::vector<std::int64_t> step_multiply_adds(const NetworkPlan& plan);

}  // namespace tinception
