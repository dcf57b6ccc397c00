// Plans a run of the checked graph up to one output layer: which layers it needs, where each
// output lives (a branch writes straight into its slice of the concat that consumes it), and
// which buffer slot holds it (slots are reused once nothing reads them). Plain data; running
// the plan is network.cpp's job.
#pragma once
#include <cstddef>
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
};

struct NetworkPlan {
    std::vector<PlannedStep> steps;            // topological order, the input first, the output last
    std::vector<std::size_t> slot_floats;      // per slot, floats for one image
};

// Throws Error naming the file and listing the concatenated blocks when `output_layer` is not
// in the graph.
NetworkPlan plan_network(const LayerGraph& graph, const std::string& output_layer, const std::string& path);

}  // namespace tinception
