// The planner: prune to the layers the output needs, place concat inputs in their slices,
// assign buffers by liveness. The graph is already checked (layer_graph.cpp), so nothing
// here validates beyond finding the output layer.
#include "model/network_plan.hpp"

#include <algorithm>

#include "error.hpp"

namespace tinception {
namespace {

bool writes_strided(LayerOp op) {
    return op == LayerOp::conv2d || op == LayerOp::maxpool2d || op == LayerOp::avgpool2d || op == LayerOp::concat;
}

// An output whose single consumer is a concat is written straight into the concat's slice.
// Walking backwards resolves nested concats outermost first.
void place_in_concats(std::vector<PlannedStep>& steps) {
    std::vector<std::vector<int>> consumers(steps.size());
    for (int i = 0; i < int(steps.size()); ++i)
        for (const int in : steps[std::size_t(i)].inputs) consumers[std::size_t(in)].push_back(i);
    for (int i = int(steps.size()) - 1; i >= 0; --i) {
        PlannedStep& s = steps[std::size_t(i)];
        s.owner = i;
        const std::vector<int>& users = consumers[std::size_t(i)];
        if (!writes_strided(s.layer->op) || users.size() != 1) continue;
        const PlannedStep& consumer = steps[std::size_t(users[0])];
        if (consumer.layer->op != LayerOp::concat ||
            std::count(consumer.inputs.begin(), consumer.inputs.end(), i) != 1)
            continue;
        int offset = consumer.channel_offset;
        for (const int in : consumer.inputs) {
            if (in == i) break;
            offset += steps[std::size_t(in)].layer->shape.c;
        }
        s.owner = consumer.owner;
        s.channel_offset = offset;
    }
    for (PlannedStep& s : steps) s.pixel_stride = steps[std::size_t(s.owner)].layer->shape.c;
}

// A buffer is busy from the first wave writing into it to the last wave reading from it (the
// steps of a wave may run at once, in any order); slots are reused greedily, wave by wave.
// Returns each slot's size for one image.
std::vector<std::size_t> assign_slots(std::vector<PlannedStep>& steps, int batched_from_wave) {
    const int count = int(steps.size());
    std::vector<int> first_write(steps.size(), -1), last_read(steps.size(), -1);
    for (int i = 0; i < count; ++i) {
        const PlannedStep& s = steps[std::size_t(i)];
        const std::size_t owner = std::size_t(s.owner);
        if (first_write[owner] < 0 || s.wave < first_write[owner]) first_write[owner] = s.wave;
        last_read[owner] = std::max(last_read[owner], s.wave);
        for (const int in : s.inputs) {
            const std::size_t o = std::size_t(steps[std::size_t(in)].owner);
            last_read[o] = std::max(last_read[o], s.wave);
        }
    }
    const int waves = steps.back().wave + 1;
    last_read[std::size_t(count - 1)] = waves;  // the output is read after the last wave
    for (int owner = 1; owner < count; ++owner) {
        if (steps[std::size_t(owner)].owner != owner) continue;
        const std::size_t o = std::size_t(owner);
        if (first_write[o] < batched_from_wave && last_read[o] >= batched_from_wave)
            first_write[o] = 1;  // read after the early waves: no early buffer may share its slot
    }
    for (PlannedStep& s : steps) {
        const std::size_t o = std::size_t(s.owner);
        s.early_only = s.owner != 0 && last_read[o] < batched_from_wave;
    }
    std::vector<int> slot_busy_until;           // per slot: last wave that reads it
    std::vector<std::size_t> slot_floats;
    for (int w = 1; w < waves; ++w) {  // wave 0, the input, is the caller's
        for (int owner = 1; owner < count; ++owner) {
            PlannedStep& o = steps[std::size_t(owner)];
            if (o.owner != owner || first_write[std::size_t(owner)] != w) continue;
            int slot = -1;
            for (int k = 0; k < int(slot_busy_until.size()); ++k)
                if (slot_busy_until[std::size_t(k)] < w) {
                    slot = k;
                    break;
                }
            if (slot < 0) {
                slot = int(slot_busy_until.size());
                slot_busy_until.push_back(0);
                slot_floats.push_back(0);
            }
            slot_busy_until[std::size_t(slot)] = last_read[std::size_t(owner)];
            const ActivationShape& s = o.layer->shape;
            slot_floats[std::size_t(slot)] = std::max(slot_floats[std::size_t(slot)], std::size_t(s.h) * s.w * s.c);
            o.slot = slot;
        }
    }
    return slot_floats;
}

}  // namespace

NetworkPlan plan_network(const LayerGraph& graph, const std::string& output_layer, const std::string& path) {
    const int output = graph.index_of(output_layer);
    if (output < 0) {
        std::string blocks;
        for (const Layer& l : graph.layers())
            if (l.op == LayerOp::concat) blocks += (blocks.empty() ? "" : ", ") + l.name;
        throw Error("no layer named '" + output_layer + "' in " + path + " (concatenated blocks: " + blocks + ")");
    }
    // The checked graph has one input layer and every other layer reads an earlier one, so
    // the first needed layer is that input, and its wave (0) comes first.
    std::vector<int> needed = graph.needed_for(output);
    std::vector<int> wave_of(graph.layers().size(), 0);
    for (const int li : needed)
        for (const int in : graph.layers()[std::size_t(li)].inputs)
            wave_of[std::size_t(li)] = std::max(wave_of[std::size_t(li)], wave_of[std::size_t(in)] + 1);
    std::stable_sort(needed.begin(), needed.end(),
                     [&](int a, int b) { return wave_of[std::size_t(a)] < wave_of[std::size_t(b)]; });
    NetworkPlan plan;
    std::vector<int> step_of(graph.layers().size(), -1);
    for (const int li : needed) {
        PlannedStep step;
        step.layer = &graph.layers()[std::size_t(li)];
        step.wave = wave_of[std::size_t(li)];
        for (const int in : step.layer->inputs) step.inputs.push_back(step_of[std::size_t(in)]);
        step_of[std::size_t(li)] = int(plan.steps.size());
        if (plan.wave_starts.size() == std::size_t(step.wave)) plan.wave_starts.push_back(int(plan.steps.size()));
        plan.steps.push_back(std::move(step));
    }
    plan.wave_starts.push_back(int(plan.steps.size()));
    place_in_concats(plan.steps);
    plan.batched_from_wave = int(plan.wave_starts.size()) - 1;
    for (const PlannedStep& s : plan.steps)
        if (long(s.layer->shape.h) * s.layer->shape.w < kBatchedBelowPixels) {
            plan.batched_from_wave = std::max(s.wave, 1);
            break;
        }
    plan.slot_floats = assign_slots(plan.steps, plan.batched_from_wave);
    return plan;
}

PooledOffsets pooled_offsets(const NetworkPlan& plan, const std::vector<std::string>& layers, const std::string& path) {
    if (layers.empty()) throw Error("no layer to pool", ErrorKind::internal);
    PooledOffsets pooled{std::vector<int>(plan.steps.size(), -1), 0};
    for (const std::string& name : layers) {
        std::size_t i = 0;
        while (i < plan.steps.size() && plan.steps[i].layer->name != name) ++i;
        if (i == plan.steps.size())
            throw Error("layer '" + name + "' is not computed on the way to '" + plan.steps.back().layer->name +
                        "' in " + path);
        if (pooled.offsets[i] >= 0) throw Error("layer '" + name + "' is named twice");
        pooled.offsets[i] = pooled.size;
        pooled.size += plan.steps[i].layer->shape.c;
    }
    return pooled;
}

std::vector<int> pool_conv_partners(const NetworkPlan& plan) {
    const std::size_t count = plan.steps.size();
    std::vector<int> partner(count, -1);
    std::vector<std::vector<int>> readers(count);
    for (std::size_t i = 0; i < count; ++i)
        for (const int in : plan.steps[i].inputs) readers[std::size_t(in)].push_back(int(i));
    for (std::size_t p = 0; p < count; ++p) {
        const PlannedStep& pool_step = plan.steps[p];
        const Layer& pool = *pool_step.layer;
        if (pool.op != LayerOp::avgpool2d || pool.stride_h != 1 || pool.stride_w != 1 || readers[p].size() != 1) continue;
        const int c = readers[p][0];
        const PlannedStep& conv_step = plan.steps[std::size_t(c)];
        const Layer& conv = *conv_step.layer;
        const ActivationShape& in = plan.steps[std::size_t(pool_step.inputs[0])].layer->shape;
        const bool pointwise = conv.op == LayerOp::conv2d && conv.kernel_h == 1 && conv.kernel_w == 1 &&
                               conv.stride_h == 1 && conv.stride_w == 1 && conv.pad_top == 0 && conv.pad_left == 0;
        const bool fits = pool_step.owner == int(p) && pool.shape.h == in.h && pool.shape.w == in.w &&
                          conv.shape.c <= pool.shape.c;
        if (!pointwise || conv_step.inputs.size() != 1 || !fits) continue;
        partner[p] = c;
        partner[std::size_t(c)] = int(p);
    }
    return partner;
}

std::vector<std::int64_t> step_multiply_adds(const NetworkPlan& plan) {
    std::vector<std::int64_t> macs;
    for (const PlannedStep& s : plan.steps) {
        const Layer& l = *s.layer;
        if (l.op != LayerOp::conv2d && l.op != LayerOp::dense) {
            macs.push_back(0);
            continue;
        }
        const int in_c = plan.steps[std::size_t(s.inputs[0])].layer->shape.c;
        macs.push_back(std::int64_t(l.shape.h) * l.shape.w * l.shape.c * in_c * l.kernel_h * l.kernel_w);
    }
    return macs;
}

std::vector<std::string> step_descriptions(const NetworkPlan& plan) {
    std::vector<std::string> lines;
    for (const PlannedStep& s : plan.steps) {
        const Layer& l = *s.layer;
        std::string line = l.name + " (" + op_name(l.op);
        if (l.op == LayerOp::conv2d || l.op == LayerOp::maxpool2d || l.op == LayerOp::avgpool2d)
            line += " " + std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w) + "/" +
                    std::to_string(l.stride_h);
        line += ") -> " + std::to_string(l.shape.h) + "x" + std::to_string(l.shape.w) + "x" + std::to_string(l.shape.c);
        lines.push_back(line);
    }
    return lines;
}

}  // namespace tinception
