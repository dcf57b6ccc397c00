// The executor: runs a NetworkPlan (network_plan.cpp) through one kernel table, each step
// reading its inputs' slices and writing its own, dispatched on the layer's op.
#include "model/network.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <numeric>

#include "error.hpp"
#include "layers/conv2d_parallel.hpp"
#include "layers/pool2d_parallel.hpp"
#include "model/layer_args.hpp"
#include "parallel/thread_pool.hpp"
#include "weights/weight_file.hpp"

namespace tinception {

struct Network::Step {
    const Layer* layer = nullptr;
    const void* packed = nullptr;  // conv2d weights in the table's layout, in packed_; null: OIHW
};

Network::Network(const WeightFile& weights, const std::string& output_layer, const kernels::KernelTable& table)
    : Network(std::make_shared<const PackedWeights>(weights, table), output_layer) {}

Network::Network(std::shared_ptr<const PackedWeights> packed, const std::string& output_layer)
    : packed_(std::move(packed)), weights_(packed_->weights()), table_(packed_->table()), output_layer_(output_layer),
      plan_(plan_network(weights_.graph(), output_layer, weights_.path())) {
    steps_.resize(plan_.steps.size());
    const Layer* first_layer = weights_.graph().layers().data();
    std::vector<int> conv_layers;
    for (const PlannedStep& s : plan_.steps)
        if (s.layer->op == LayerOp::conv2d) conv_layers.push_back(int(s.layer - first_layer));
    packed_->check_cached(conv_layers);
    for (std::size_t i = 0; i < steps_.size(); ++i) {
        const Layer& l = *plan_.steps[i].layer;
        steps_[i].layer = &l;
        if (l.op != LayerOp::conv2d) continue;
        // The layer's own geometry: a table may pick its layout by kernel, stride and width.
        kernels::Conv2dArgs args = conv_args_for_packing(weights_.graph(), l);
        steps_[i].packed = args.packed = packed_->conv2d(int(&l - first_layer), args);
        // A kernel's scratch depends on the layer's shape, not on the batch or the cut.
        workspace_bytes_ = std::max(workspace_bytes_, conv2d_workspace_bytes(table_, args));
    }
    packed_->save_cache();  // the layers this network packed, for the next run to map
    pool_partner_ = pool_conv_partners(plan_);
    feature_size_ = output_shape().c;
    plan_buffers(1);
}

Network::~Network() = default;

void Network::pool_layers(const std::vector<std::string>& layers) {
    PooledOffsets pooled = pooled_offsets(plan_, layers, weights_.path());
    pooled_offset_ = std::move(pooled.offsets);
    feature_size_ = pooled.size;
}

// Pools step i's output for the batch's images into their rows of features[][feature_size_]
// at the step's offset, right after the step's wave, before a later wave may reuse its buffer.
void Network::pool_step(int i, const Batch& batch, float* features) {
    const ActivationShape& shape = plan_.steps[std::size_t(i)].layer->shape;
    const int stride = plan_.steps[std::size_t(i)].pixel_stride;
    const float* from = image_buffer(i, batch);
    const int n = batch.count;
    features += std::size_t(batch.first) * std::size_t(feature_size_);
    pooled_.resize(std::size_t(n) * std::size_t(shape.c));
    if (stride == shape.c) {
        table_.global_avgpool(from, pooled_.data(), n, shape.h, shape.w, shape.c);
    } else {  // a slice of a concat's buffer: the kernel takes dense pixels only
        const long pixels = long(shape.h) * shape.w;
        std::fill(pooled_.begin(), pooled_.end(), 0.0f);
        for (int b = 0; b < n; ++b)
            for (long p = 0; p < pixels; ++p)
                for (int c = 0; c < shape.c; ++c)
                    pooled_[std::size_t(b) * std::size_t(shape.c) + std::size_t(c)] += from[(b * pixels + p) * stride + c];
        for (float& v : pooled_) v /= float(pixels);
    }
    for (int b = 0; b < n; ++b)
        std::copy_n(pooled_.data() + std::size_t(b) * std::size_t(shape.c), shape.c,
                    features + std::size_t(b) * std::size_t(feature_size_) + std::size_t(pooled_offset_[std::size_t(i)]));
}

ActivationShape Network::input_shape() const { return plan_.steps.front().layer->shape; }
ActivationShape Network::output_shape() const { return plan_.steps.back().layer->shape; }

std::int64_t Network::multiply_adds_per_image() const {
    const std::vector<std::int64_t> macs = step_multiply_adds(plan_);
    return std::accumulate(macs.begin(), macs.end(), std::int64_t(0));
}

// One allocation holds every slot for n images and a convolution workspace per thread; it
// grows (once) when a larger batch or more threads come along.
void Network::plan_buffers(int n) {
    const int threads = thread_count();
    if (n <= planned_batch_ && threads <= workspaces_.count) return;
    n = std::max(n, planned_batch_);
    const int workspace_count = std::max(threads, workspaces_.count);
    std::vector<std::size_t> offsets;
    std::size_t total = 0;
    const auto add = [&total](std::size_t floats, std::size_t times) {
        const std::size_t bytes = round_up_64(floats * sizeof(float));
        if (times != 0 && bytes > (std::numeric_limits<std::size_t>::max() - total) / times)
            throw Error("out of memory: the activations of " + std::to_string(times) +
                            " images would need more than the address space",
                        ErrorKind::out_of_memory);
        const std::size_t at = total;
        total += bytes * times;
        return at;
    };
    for (const std::size_t floats : plan_.slot_floats) offsets.push_back(add(floats * std::size_t(n), 1));
    const std::size_t workspaces_at = add(workspace_bytes_ / sizeof(float), std::size_t(workspace_count));
    // The old arena goes first, so the two are never held at once; should the new one fail,
    // the network is left planned for nothing and tries again on the next call.
    planned_batch_ = 0;
    workspaces_ = {};
    slots_.clear();
    arena_ = AlignedBuffer();
    arena_ = AlignedBuffer(total, "activations and convolution scratch", AlignedBuffer::Pages::huge);
    auto* base = static_cast<unsigned char*>(arena_.data());
    for (const std::size_t at : offsets) slots_.push_back(reinterpret_cast<float*>(base + at));
    workspaces_ = {base + workspaces_at, workspace_bytes_, workspace_count};
    planned_batch_ = n;
}

void Network::run_step(int i, const Batch& batch) {
    const int n = batch.count;
    const PlannedStep& s = plan_.steps[std::size_t(i)];
    const Layer& l = *s.layer;
    const int src = s.inputs[0];
    const ActivationShape& in = plan_.steps[std::size_t(src)].layer->shape;
    if (runs_conv(i)) return conv2d_parallel(table_, run_conv_args(i, batch), workspaces_);
    if (runs_pool(i)) return pool2d_parallel(pool_kernel(i), run_pool_args(i, batch));
    switch (l.op) {
    case LayerOp::input:
    case LayerOp::conv2d:
    case LayerOp::maxpool2d:
    case LayerOp::avgpool2d:
        break;
    case LayerOp::concat: {
        // Inputs placed in this concat's slice are already there; copy the others.
        float* out = image_buffer(i, batch);
        int offset = 0;
        for (const int k : s.inputs) {
            const PlannedStep& part = plan_.steps[std::size_t(k)];
            if (part.owner != s.owner)
                table_.copy_channels(input_of(k, batch), n * l.shape.h * l.shape.w, part.layer->shape.c, out,
                                     s.pixel_stride, offset);
            offset += part.layer->shape.c;
        }
        break;
    }
    case LayerOp::flatten: {
        const int in_stride = plan_.steps[std::size_t(src)].pixel_stride;
        const float* from = input_of(src, batch);
        float* to = image_buffer(i, batch);
        for (long p = 0; p < long(n) * in.h * in.w; ++p)
            std::memcpy(to + p * in.c, from + p * in_stride, sizeof(float) * std::size_t(in.c));
        break;
    }
    case LayerOp::dense: {
        kernels::DenseArgs a;
        a.input = input_of(src, batch);
        a.weights = l.weights->data;
        a.bias = l.bias->data;
        a.output = image_buffer(i, batch);
        a.n = n;
        a.in_features = in.c;
        a.out_features = l.shape.c;
        table_.dense(a);
        float* out = image_buffer(i, batch);
        if (l.activation == DenseActivation::relu)
            for (long k = 0; k < long(n) * l.shape.c; ++k) out[k] = std::max(out[k], 0.0f);
        else if (l.activation == DenseActivation::softmax)
            table_.softmax(out, out, n, l.shape.c);
        break;
    }
    }
}

// The convolutions and poolings of steps [first, end) as one parallel_for, other steps on
// the calling thread first. Each layer is cut as it would be alone, and the tasks are ordered
// so that thread t's share is share t of every layer: a thread keeps finding its own rows in
// its cache from layer to layer, as when the layers run one after another, while a thread that
// runs out early takes tasks of any layer instead of waiting at a barrier per layer.
void Network::run_wave(int first, int end, const Batch& batch) {
    const int threads = thread_count();
    std::vector<Conv2dTasks> convs;
    std::vector<Pool2dTasks> pools;
    convs.reserve(std::size_t(end - first));
    pools.reserve(std::size_t(end - first));
    struct LayerTasks {
        const Conv2dTasks* conv;
        const Pool2dTasks* pool;
        int count;
    };
    std::vector<LayerTasks> layers;
    for (int i = first; i < end; ++i) {
        if (runs_conv(i)) {
            convs.emplace_back(table_, run_conv_args(i, batch), workspaces_, threads);
            layers.push_back({&convs.back(), nullptr, convs.back().count()});
        } else if (runs_pool(i)) {
            pools.emplace_back(pool_kernel(i), run_pool_args(i, batch));
            layers.push_back({nullptr, &pools.back(), pools.back().count()});
        } else {
            run_step(i, batch);
        }
    }
    wave_tasks_.clear();
    for (int t = 0; t < threads; ++t)
        for (std::size_t k = 0; k < layers.size(); ++k)
            for (int task = layers[k].count * t / threads; task < layers[k].count * (t + 1) / threads; ++task)
                wave_tasks_.push_back({int(k), task});
    parallel_for(int(wave_tasks_.size()), [&](int t) {
        const WaveTask w = wave_tasks_[std::size_t(t)];
        const LayerTasks& l = layers[std::size_t(w.layer)];
        if (l.conv)
            l.conv->run(w.task);
        else
            l.pool->run(w.task);
    });
}

void Network::run_waves(int first_wave, int end_wave, const Batch& batch, float* features) {
    using Clock = std::chrono::steady_clock;
    const bool waves_at_once = thread_count() > 1 && !step_seconds_;  // per-step timing runs them one by one
    for (int w = first_wave; w < end_wave; ++w) {
        const int first = plan_.wave_starts[std::size_t(w)];
        const int end = plan_.wave_starts[std::size_t(w) + 1];
        if (waves_at_once && end - first > 1) {
            run_wave(first, end, batch);
        } else {
            for (int i = first; i < end; ++i) {
                const Clock::time_point step_start = step_seconds_ ? Clock::now() : Clock::time_point{};
                run_step(i, batch);
                if (step_seconds_)
                    (*step_seconds_)[std::size_t(i)] += std::chrono::duration<double>(Clock::now() - step_start).count();
            }
        }
        // A wave's outputs stay in place until a later wave: no slot is reused before then.
        for (int i = first; i < end; ++i) {
            if (features && !pooled_offset_.empty() && pooled_offset_[std::size_t(i)] >= 0) pool_step(i, batch, features);
            if (observer_)
                observer_(*plan_.steps[std::size_t(i)].layer, image_buffer(i, batch), batch.count,
                          plan_.steps[std::size_t(i)].pixel_stride);
        }
    }
}

void Network::extract_features(const float* input, int n, float* features) {
    if (n <= 0) return;
    plan_buffers(n);
    const int waves = int(plan_.wave_starts.size()) - 1;
    // At batch 8 the stem ran 30-60% slower per image than at batch 1 before its waves ran
    // a few images at a time.
    run_in_image_groups(
        plan_, n, thread_count(),
        [&](int first, int count) { run_waves(1, plan_.batched_from_wave, {input, first, count}, features); },
        [&](int from_wave) { run_waves(from_wave, waves, {input, 0, n}, features); });
    if (!features) return;  // extract_activations reads the output layer's buffer
    if (!pooled_offset_.empty()) return;
    const ActivationShape& out = output_shape();
    table_.global_avgpool(input_of(int(steps_.size()) - 1, {input, 0, n}), features, n, out.h, out.w, out.c);
}

void Network::extract_activations(const float* input, int n, float* activations, float* pooled) {
    if (n <= 0) return;
    extract_features(input, n, pooled);
    const int last = int(steps_.size()) - 1;
    const ActivationShape out = output_shape();
    const int stride = plan_.steps[std::size_t(last)].pixel_stride;
    const float* from = last == 0 ? input : buffer_for(last);
    for (long p = 0; p < long(n) * out.h * out.w; ++p)
        std::memcpy(activations + p * out.c, from + p * stride, sizeof(float) * std::size_t(out.c));
}

void Network::time_steps(std::vector<double>* seconds) {
    if (seconds) seconds->resize(steps_.size(), 0.0);
    step_seconds_ = seconds;
}

std::vector<std::string> Network::step_descriptions() const {
    std::vector<std::string> lines = tinception::step_descriptions(plan_);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!pools_after_conv(int(i))) continue;
        const Layer& partner = *plan_.steps[std::size_t(pool_partner_[i])].layer;
        lines[i] += plan_.steps[i].layer->op == LayerOp::avgpool2d ? ", running " + partner.name + "'s 1x1 first"
                                                                   : ", pooling after the 1x1";
    }
    return lines;
}

}  // namespace tinception
