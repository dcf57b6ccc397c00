// Builds the steps an output layer needs from the weight file's layer list, places each
// branch output straight into its slice of the concat that consumes it, assigns buffers
// by liveness, and runs the steps through one kernel table.
#include "model/network.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <set>

#include "conv_geometry.hpp"
#include "error.hpp"
#include "layers/conv2d_parallel.hpp"
#include "layers/pool2d_parallel.hpp"
#include "weights/weight_file.hpp"

namespace tinception {

enum class StepOp { input, conv2d, maxpool2d, avgpool2d, concat, flatten, dense };

struct AlignedFree {
    void operator()(void* p) const { std::free(p); }
};

struct Network::Step {
    const LayerSpec* spec = nullptr;
    StepOp op = StepOp::input;
    std::vector<int> inputs;  // step indices
    ActivationShape shape;
    // conv and pool geometry
    int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
    bool relu = false;
    const float* weights = nullptr;
    const float* bias = nullptr;
    std::unique_ptr<void, AlignedFree> packed;
    std::string activation;  // dense only
    // where the output lives: in the buffer of step `owner`, from `channel_offset` on
    int owner = -1;
    int channel_offset = 0;
    int slot = -1;  // storage slot, for steps that own their buffer (not the input)
};

namespace {

std::int64_t int_attr(const LayerSpec& spec, const char* key) {
    const auto it = spec.ints.find(key);
    if (it == spec.ints.end())
        throw Error("layer '" + spec.name + "' (" + spec.op + ") lacks attribute '" + key + "'");
    return it->second;
}

int positive_attr(const LayerSpec& spec, const char* key, std::int64_t max = 1 << 16) {
    const std::int64_t v = int_attr(spec, key);
    if (v <= 0 || v > max)
        throw Error("layer '" + spec.name + "' has " + key + " = " + std::to_string(v) +
                    ", expected 1.." + std::to_string(max));
    return int(v);
}

std::string string_attr(const LayerSpec& spec, const char* key) {
    const auto it = spec.strings.find(key);
    if (it == spec.strings.end())
        throw Error("layer '" + spec.name + "' (" + spec.op + ") lacks attribute '" + key + "'");
    return it->second;
}

std::string describe_dims(const std::vector<std::int64_t>& dims) {
    std::string s;
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
    return s.empty() ? "scalar" : s;
}

const TensorRef& tensor_of_shape(const WeightFile& weights, const std::string& name,
                                 const std::vector<std::int64_t>& expected) {
    const TensorRef& t = weights.tensor(name);
    if (t.dims != expected)
        throw Error("tensor '" + name + "' has shape " + describe_dims(t.dims) + ", expected " +
                    describe_dims(expected));
    return t;
}

StepOp op_named(const LayerSpec& spec) {
    static const std::pair<const char*, StepOp> ops[] = {
        {"input", StepOp::input},         {"conv2d", StepOp::conv2d},
        {"maxpool2d", StepOp::maxpool2d}, {"avgpool2d", StepOp::avgpool2d},
        {"concat", StepOp::concat},       {"flatten", StepOp::flatten},
        {"dense", StepOp::dense}};
    for (const auto& [name, op] : ops)
        if (spec.op == name) return op;
    throw Error("layer '" + spec.name + "' has op '" + spec.op + "', which this build cannot run");
}

// Output size and leading padding along one axis, for 'same' or 'valid'.
Padding1d axis_geometry(const LayerSpec& spec, int in, int kernel, int stride) {
    const std::string padding = string_attr(spec, "padding");
    Padding1d g;
    if (padding == "same")
        g = same_padding(in, kernel, stride);
    else if (padding == "valid")
        g = valid_padding(in, kernel, stride);
    else
        throw Error("layer '" + spec.name + "' has padding '" + padding + "', expected same or valid");
    if (g.out <= 0)
        throw Error("layer '" + spec.name + "': a " + std::to_string(kernel) + "-wide window does not fit an input of " +
                    std::to_string(in));
    return g;
}

std::size_t floats_of(const ActivationShape& s) { return std::size_t(s.h) * s.w * s.c; }

// The window geometry convolution and pooling arguments share.
template <typename WindowArgs, typename StepT>
void set_window(WindowArgs& a, const StepT& s, const ActivationShape& in, int n, int in_stride, int out_stride) {
    a.n = n;
    a.in_h = in.h;
    a.in_w = in.w;
    a.out_h = s.shape.h;
    a.out_w = s.shape.w;
    a.kernel_h = s.kernel_h;
    a.kernel_w = s.kernel_w;
    a.stride_h = s.stride_h;
    a.stride_w = s.stride_w;
    a.pad_top = s.pad_top;
    a.pad_left = s.pad_left;
    a.in_pixel_stride = in_stride;
    a.out_pixel_stride = out_stride;
}

}  // namespace

Network::Network(const WeightFile& weights, const std::string& output_layer,
                 const kernels::KernelTable& table)
    : weights_(weights), table_(table), output_layer_(output_layer) {
    // Which layers the output needs, walking back from it.
    const std::vector<LayerSpec>& layers = weights.layers();
    std::map<std::string, std::size_t> index_of;
    for (std::size_t i = 0; i < layers.size(); ++i) index_of[layers[i].name] = i;
    if (!index_of.count(output_layer)) {
        std::string blocks;
        for (const LayerSpec& l : layers)
            if (l.op == "concat") blocks += (blocks.empty() ? "" : ", ") + l.name;
        throw Error("no layer named '" + output_layer + "' in " + weights.path() +
                    " (concatenated blocks: " + blocks + ")");
    }
    std::set<std::size_t> needed;
    std::vector<std::size_t> todo{index_of[output_layer]};
    while (!todo.empty()) {
        const std::size_t i = todo.back();
        todo.pop_back();
        if (!needed.insert(i).second) continue;
        for (const std::string& in : layers[i].inputs) {
            const auto it = index_of.find(in);
            if (it == index_of.end() || it->second >= i)
                throw Error("layer '" + layers[i].name + "' reads '" + in +
                            "', which is not an earlier layer");
            todo.push_back(it->second);
        }
    }

    // Steps in file order (topological), with shapes checked as they are built.
    std::map<std::string, int> step_of;
    for (const std::size_t li : needed) {
        const LayerSpec& spec = layers[li];
        Step step;
        step.spec = &spec;
        step.op = op_named(spec);
        for (const std::string& in : spec.inputs) step.inputs.push_back(step_of.at(in));
        const bool needs_one_input = step.op != StepOp::input && step.op != StepOp::concat;
        if (step.op == StepOp::input ? !step.inputs.empty()
                                     : (step.inputs.empty() || (needs_one_input && step.inputs.size() != 1)))
            throw Error("layer '" + spec.name + "' has " + std::to_string(step.inputs.size()) +
                        " inputs, which its op '" + spec.op + "' does not take");
        const ActivationShape in = step.inputs.empty() ? ActivationShape{} : steps_[step.inputs[0]].shape;
        switch (step.op) {
        case StepOp::input:
            if (!steps_.empty()) throw Error("layer '" + spec.name + "': a second input layer is not supported");
            step.shape = {positive_attr(spec, "height"), positive_attr(spec, "width"),
                          positive_attr(spec, "channels")};
            break;
        case StepOp::conv2d: {
            step.kernel_h = positive_attr(spec, "kernel_h", 64);
            step.kernel_w = positive_attr(spec, "kernel_w", 64);
            step.stride_h = positive_attr(spec, "stride_h", 64);
            step.stride_w = positive_attr(spec, "stride_w", 64);
            step.relu = int_attr(spec, "relu") != 0;
            if (spec.tensors.size() != 2)
                throw Error("layer '" + spec.name + "' should name 2 tensors (weights, bias)");
            const TensorRef& w = weights.tensor(spec.tensors[0]);
            if (w.dims.size() != 4 || w.dims[0] <= 0 || w.dims[0] > (1 << 20))
                throw Error("tensor '" + w.name + "' has shape " + describe_dims(w.dims) +
                            ", expected out_c x in_c x kernel_h x kernel_w");
            const int out_c = int(w.dims[0]);
            tensor_of_shape(weights, w.name, {out_c, in.c, step.kernel_h, step.kernel_w});
            step.weights = w.data;
            step.bias = tensor_of_shape(weights, spec.tensors[1], {out_c}).data;
            const Padding1d gy = axis_geometry(spec, in.h, step.kernel_h, step.stride_h);
            const Padding1d gx = axis_geometry(spec, in.w, step.kernel_w, step.stride_w);
            step.pad_top = gy.before;
            step.pad_left = gx.before;
            step.shape = {gy.out, gx.out, out_c};
            break;
        }
        case StepOp::maxpool2d:
        case StepOp::avgpool2d: {
            step.kernel_h = positive_attr(spec, "kernel_h", 4096);
            step.kernel_w = positive_attr(spec, "kernel_w", 4096);
            step.stride_h = positive_attr(spec, "stride_h", 4096);
            step.stride_w = positive_attr(spec, "stride_w", 4096);
            const Padding1d gy = axis_geometry(spec, in.h, step.kernel_h, step.stride_h);
            const Padding1d gx = axis_geometry(spec, in.w, step.kernel_w, step.stride_w);
            step.pad_top = gy.before;
            step.pad_left = gx.before;
            step.shape = {gy.out, gx.out, in.c};
            break;
        }
        case StepOp::concat: {
            step.shape = in;
            step.shape.c = 0;
            for (const int i : step.inputs) {
                const ActivationShape& s = steps_[i].shape;
                if (s.h != in.h || s.w != in.w)
                    throw Error("layer '" + spec.name + "' concatenates inputs of different sizes");
                step.shape.c += s.c;
            }
            break;
        }
        case StepOp::flatten:
            step.shape = {1, 1, int(floats_of(in))};
            break;
        case StepOp::dense: {
            if (in.h != 1 || in.w != 1)
                throw Error("layer '" + spec.name + "' (dense) needs a flat input");
            if (spec.tensors.size() != 2)
                throw Error("layer '" + spec.name + "' should name 2 tensors (weights, bias)");
            const TensorRef& w = weights.tensor(spec.tensors[0]);
            if (w.dims.size() != 2) throw Error("tensor '" + w.name + "' should be 2-D");
            step.weights = tensor_of_shape(weights, w.name, {w.dims[0], in.c}).data;
            step.bias = tensor_of_shape(weights, spec.tensors[1], {w.dims[0]}).data;
            step.activation = string_attr(spec, "activation");
            if (step.activation != "linear" && step.activation != "relu" && step.activation != "softmax")
                throw Error("layer '" + spec.name + "' has activation '" + step.activation + "'");
            step.shape = {1, 1, int(w.dims[0])};
            break;
        }
        }
        step_of[spec.name] = int(steps_.size());
        steps_.push_back(std::move(step));
    }
    if (steps_.empty() || steps_[0].op != StepOp::input)
        throw Error(weights.path() + ": layer '" + output_layer + "' does not start from an input layer");

    // Placement: an output whose single consumer is a concat is written straight into
    // the concat's slice. Walking backwards resolves nested concats outermost first.
    std::vector<std::vector<int>> consumers(steps_.size());
    for (int i = 0; i < int(steps_.size()); ++i)
        for (const int in : steps_[i].inputs) consumers[in].push_back(i);
    for (int i = int(steps_.size()) - 1; i >= 0; --i) {
        Step& s = steps_[i];
        s.owner = i;
        const bool can_write_strided = s.op == StepOp::conv2d || s.op == StepOp::maxpool2d ||
                                       s.op == StepOp::avgpool2d || s.op == StepOp::concat;
        if (!can_write_strided || consumers[i].size() != 1) continue;
        const Step& consumer = steps_[consumers[i][0]];
        if (consumer.op != StepOp::concat ||
            std::count(consumer.inputs.begin(), consumer.inputs.end(), i) != 1)
            continue;
        int offset = consumer.channel_offset;
        for (const int in : consumer.inputs) {
            if (in == i) break;
            offset += steps_[in].shape.c;
        }
        s.owner = consumer.owner;
        s.channel_offset = offset;
    }

    // Liveness: a buffer is busy from the first step writing into it to the last step
    // reading from it; slots are reused greedily in step order.
    std::vector<int> first_write(steps_.size(), -1), last_read(steps_.size(), -1);
    for (int i = 0; i < int(steps_.size()); ++i) {
        const int owner = steps_[i].owner;
        if (first_write[owner] < 0) first_write[owner] = i;
        last_read[owner] = std::max(last_read[owner], i);
        for (const int in : steps_[i].inputs)
            last_read[steps_[in].owner] = std::max(last_read[steps_[in].owner], i);
    }
    last_read[steps_.size() - 1] = int(steps_.size());  // the output is read after the last step
    std::vector<int> slot_busy_until;                    // per slot: last step that reads it
    for (int i = 1; i < int(steps_.size()); ++i) {       // step 0, the input, is the caller's
        for (int owner = 1; owner < int(steps_.size()); ++owner) {
            if (steps_[owner].owner != owner || first_write[owner] != i) continue;
            int slot = -1;
            for (int k = 0; k < int(slot_busy_until.size()); ++k)
                if (slot_busy_until[k] < i) { slot = k; break; }
            if (slot < 0) {
                slot = int(slot_busy_until.size());
                slot_busy_until.push_back(0);
            }
            slot_busy_until[slot] = last_read[owner];
            steps_[owner].slot = slot;
        }
    }
    storage_.assign(slot_busy_until.size(), nullptr);
    storage_floats_.assign(slot_busy_until.size(), 0);

    // Weights packed once, for tables that want their own layout.
    if (table_.conv2d_pack && table_.conv2d_packed_size)
        for (Step& s : steps_) {
            if (s.op != StepOp::conv2d) continue;
            // The layer's own geometry: a table may pick its layout by kernel, stride and width.
            kernels::Conv2dArgs args;
            const ActivationShape& in = steps_[s.inputs[0]].shape;
            set_window(args, s, in, 1, in.c, s.shape.c);
            args.weights = s.weights;
            args.in_c = in.c;
            args.out_c = s.shape.c;
            const std::size_t bytes = (table_.conv2d_packed_size(args) + 63) / 64 * 64;
            s.packed.reset(std::aligned_alloc(64, std::max<std::size_t>(bytes, 64)));
            if (!s.packed) throw std::bad_alloc();
            table_.conv2d_pack(args, s.packed.get());
        }
}

Network::~Network() {
    for (float* p : storage_) std::free(p);
}

ActivationShape Network::input_shape() const { return steps_.front().shape; }
ActivationShape Network::output_shape() const { return steps_.back().shape; }

std::int64_t Network::multiply_adds_per_image() const {
    std::int64_t total = 0;
    for (const Step& s : steps_) {
        const ActivationShape& in = steps_[s.inputs.empty() ? 0 : s.inputs[0]].shape;
        if (s.op == StepOp::conv2d)
            total += std::int64_t(s.shape.h) * s.shape.w * s.shape.c * in.c * s.kernel_h * s.kernel_w;
        if (s.op == StepOp::dense) total += std::int64_t(s.shape.c) * in.c;
    }
    return total;
}

void Network::plan_buffers(int n) {
    if (n <= planned_batch_) return;
    std::vector<std::size_t> needed(storage_.size(), 0);
    for (const Step& s : steps_)
        if (s.slot >= 0) needed[s.slot] = std::max(needed[s.slot], floats_of(s.shape) * std::size_t(n));
    for (std::size_t k = 0; k < storage_.size(); ++k) {
        std::free(storage_[k]);
        storage_[k] = nullptr;
        const std::size_t bytes = (needed[k] * sizeof(float) + 63) / 64 * 64;
        storage_[k] = static_cast<float*>(std::aligned_alloc(64, std::max<std::size_t>(bytes, 64)));
        if (!storage_[k]) throw std::bad_alloc();
        storage_floats_[k] = needed[k];
    }
    planned_batch_ = n;
}

float* Network::buffer_for(int step_index) {
    const Step& s = steps_[step_index];
    return storage_[steps_[s.owner].slot] + s.channel_offset;
}

void Network::extract_features(const float* input, int n, float* features) {
    if (n <= 0) return;
    plan_buffers(n);
    const auto pointer_of = [&](int step_index) -> const float* {
        return step_index == 0 ? input : buffer_for(step_index);
    };
    const auto stride_of = [&](int step_index) { return steps_[steps_[step_index].owner].shape.c; };

    for (int i = 1; i < int(steps_.size()); ++i) {
        using Clock = std::chrono::steady_clock;
        const Clock::time_point step_start = step_seconds_ ? Clock::now() : Clock::time_point{};
        const Step& s = steps_[i];
        const int src = s.inputs[0];
        const ActivationShape& in = steps_[src].shape;
        switch (s.op) {
        case StepOp::input:
            break;
        case StepOp::conv2d: {
            kernels::Conv2dArgs a;
            set_window(a, s, in, n, stride_of(src), stride_of(i));
            a.input = pointer_of(src);
            a.output = buffer_for(i);
            a.weights = s.weights;
            a.bias = s.bias;
            a.packed = s.packed.get();
            a.in_c = in.c;
            a.out_c = s.shape.c;
            a.relu = s.relu;
            conv2d_parallel(table_, a);
            break;
        }
        case StepOp::maxpool2d:
        case StepOp::avgpool2d: {
            kernels::Pool2dArgs a;
            set_window(a, s, in, n, stride_of(src), stride_of(i));
            a.input = pointer_of(src);
            a.output = buffer_for(i);
            a.c = in.c;
            pool2d_parallel(s.op == StepOp::maxpool2d ? table_.maxpool2d : table_.avgpool2d, a);
            break;
        }
        case StepOp::concat: {
            // Inputs placed in this concat's slice are already there; copy the others.
            float* out = buffer_for(i);
            int offset = 0;
            for (const int k : s.inputs) {
                const Step& part = steps_[k];
                if (part.owner != s.owner)
                    table_.copy_channels(pointer_of(k), n * s.shape.h * s.shape.w, part.shape.c,
                                         out, stride_of(i), offset);
                offset += part.shape.c;
            }
            break;
        }
        case StepOp::flatten: {
            const int in_stride = stride_of(src);
            const float* from = pointer_of(src);
            float* to = buffer_for(i);
            for (long p = 0; p < long(n) * in.h * in.w; ++p)
                std::memcpy(to + p * in.c, from + p * in_stride, sizeof(float) * in.c);
            break;
        }
        case StepOp::dense: {
            kernels::DenseArgs a;
            a.input = pointer_of(src);
            a.weights = s.weights;
            a.bias = s.bias;
            a.output = buffer_for(i);
            a.n = n;
            a.in_features = in.c;
            a.out_features = s.shape.c;
            table_.dense(a);
            float* out = buffer_for(i);
            if (s.activation == "relu")
                for (long k = 0; k < long(n) * s.shape.c; ++k) out[k] = std::max(out[k], 0.0f);
            else if (s.activation == "softmax")
                table_.softmax(out, out, n, s.shape.c);
            break;
        }
        }
        if (step_seconds_)
            (*step_seconds_)[std::size_t(i)] +=
                std::chrono::duration<double>(Clock::now() - step_start).count();
    }
    const ActivationShape& out = steps_.back().shape;
    table_.global_avgpool(pointer_of(int(steps_.size()) - 1), features, n, out.h, out.w, out.c);
}

void Network::time_steps(std::vector<double>* seconds) {
    if (seconds) seconds->resize(steps_.size(), 0.0);
    step_seconds_ = seconds;
}

std::vector<std::string> Network::step_descriptions() const {
    std::vector<std::string> lines;
    for (const Step& s : steps_) {
        std::string line = s.spec ? s.spec->name + " (" + s.spec->op : std::string("input (input");
        if (s.op == StepOp::conv2d || s.op == StepOp::maxpool2d || s.op == StepOp::avgpool2d)
            line += " " + std::to_string(s.kernel_h) + "x" + std::to_string(s.kernel_w) + "/" +
                    std::to_string(s.stride_h);
        line += ") -> " + std::to_string(s.shape.h) + "x" + std::to_string(s.shape.w) + "x" +
                std::to_string(s.shape.c);
        lines.push_back(line);
    }
    return lines;
}

}  // namespace tinception
