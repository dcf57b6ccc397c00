// The int8 executor: per step, the scale of its output tensor, and for convolutions the
// epilogue's per-channel multiplier and bias over weights from Int8LayerWeights.
#include "quant/int8_network.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

#include "error.hpp"
#include "layers/conv2d_parallel.hpp"
#include "layers/conv2d_workspace.hpp"
#include "layers/row_band.hpp"
#include "model/layer_args.hpp"
#include "parallel/thread_pool.hpp"
#include "weights/weight_file.hpp"

namespace tinception {

struct Int8Network::Step {
    float scale = 0.0f;        // fp32 value of one u8 step of this output (unused when float_out)
    bool float_out = false;    // written into the float output buffer
    bool stem = false;         // conv on the float input: runs in fp32
    float rescale = 1.0f;      // pooling: input scale / output scale
    Int8LayerWeights::Conv weights;  // conv; the stem's `packed` alone, by the fp32 table
    std::vector<float> multiplier, bias;
};

namespace {

float range_of(const ActivationRanges& ranges, const Layer& l) {
    const auto it = ranges.find(l.name);
    if (it == ranges.end()) throw Error("int8: no calibrated range for layer '" + l.name + "'");
    return it->second;
}

}  // namespace

Int8Network::Int8Network(const WeightFile& weights, const std::string& output_layer, const ActivationRanges& ranges,
                         const kernels::Int8KernelTable& table, const kernels::KernelTable& fp32_table,
                         const PackedCacheChoice& cache)
    : weights_(weights), table_(table), fp32_table_(fp32_table),
      plan_(plan_network(weights.graph(), output_layer, weights.path())) {
    const int last = int(plan_.steps.size()) - 1;
    std::vector<int> conv_layers;
    for (int i = 1; i <= last; ++i)
        if (plan_.steps[std::size_t(i)].layer->op == LayerOp::conv2d)
            conv_layers.push_back(weights.graph().index_of(plan_.steps[std::size_t(i)].layer->name));
    layer_weights_ = std::make_unique<Int8LayerWeights>(weights, table_, fp32_table_, cache, conv_layers);
    steps_.resize(plan_.steps.size());
    // The output stays float when convolutions (and concats of them) alone write its buffer.
    bool float_final = last > 0;
    for (int i = 1; i <= last; ++i) {
        const PlannedStep& s = plan_.steps[std::size_t(i)];
        if (s.owner != last) continue;
        if (s.layer->op == LayerOp::concat) {
            for (const int k : s.inputs) float_final = float_final && plan_.steps[std::size_t(k)].owner == last;
        } else if (s.layer->op != LayerOp::conv2d) {
            float_final = false;
        }
    }
    for (int i = 1; i <= last; ++i) {
        const PlannedStep& s = plan_.steps[std::size_t(i)];
        const Layer& l = *s.layer;
        Step& step = steps_[std::size_t(i)];
        if (l.op == LayerOp::dense || l.op == LayerOp::flatten)
            throw Error("int8 runs the convolutional trunk only; layer '" + l.name + "' is " + op_name(l.op));
        const int src = s.inputs[0];
        step.float_out = float_final && s.owner == last;
        const bool pool = l.op == LayerOp::maxpool2d || l.op == LayerOp::avgpool2d;
        if (s.owner != i)
            step.scale = range_of(ranges, *plan_.steps[std::size_t(s.owner)].layer) / 255.0f;
        else if (pool)
            step.scale = steps_[std::size_t(src)].scale;
        else
            step.scale = range_of(ranges, l) / 255.0f;
        if (pool) step.rescale = steps_[std::size_t(src)].scale / step.scale;
        if (l.op != LayerOp::conv2d) continue;
        step.stem = src == 0;
        const ActivationShape& in = plan_.steps[std::size_t(src)].layer->shape;
        if (step.stem) {
            step.weights.packed = layer_weights_->stem(l, in);
            // A band's floats, then the fp32 kernel's own scratch (its size does not depend
            // on the rows), in each thread's workspace.
            stem_band_bytes_ = round_up_64(sizeof(float) * std::size_t(kStemBandRows) * std::size_t(l.shape.w) *
                                           std::size_t(l.shape.c));
            kernels::Conv2dArgs a = conv_args(l, in, 1, in.c, l.shape.c);
            a.packed = step.weights.packed;
            workspace_bytes_ = std::max(workspace_bytes_,
                                        stem_band_bytes_ + round_up_64(conv2d_workspace_bytes(fp32_table_, a)));
            continue;
        }
        step.weights = layer_weights_->conv(l, in);
        const float in_scale = steps_[std::size_t(src)].scale;
        const float out_scale = step.float_out ? 1.0f : step.scale;
        for (int oc = 0; oc < l.shape.c; ++oc) {
            step.multiplier.push_back(in_scale * step.weights.weight_scale[std::size_t(oc)] / out_scale);
            step.bias.push_back(l.bias->data[oc] / out_scale);
        }
        if (table_.conv2d_workspace_size) {
            kernels::Conv2dInt8Args a;
            set_window(a, l, in, 1, in.c, l.shape.c);
            a.in_c = in.c;
            a.out_c = l.shape.c;
            workspace_bytes_ = std::max(workspace_bytes_, round_up_64(table_.conv2d_workspace_size(a)));
        }
    }
    feature_size_ = plan_.steps.back().layer->shape.c;
    layer_weights_->save();
    plan_buffers(1);
}

Int8Network::~Int8Network() = default;

ActivationShape Int8Network::input_shape() const { return plan_.steps.front().layer->shape; }

void Int8Network::pool_layers(const std::vector<std::string>& layers) {
    PooledOffsets pooled = pooled_offsets(plan_, layers, weights_.path());
    pooled_offset_ = std::move(pooled.offsets);
    feature_size_ = pooled.size;
}

// Every slot holds floats for n images (the float output may land in any slot; a u8 tensor
// uses the first quarter), then one convolution workspace per thread.
void Int8Network::plan_buffers(int n) {
    const int threads = thread_count();
    if (n <= planned_batch_ && threads <= planned_threads_) return;
    n = std::max(n, planned_batch_);
    std::vector<std::size_t> offsets;
    std::size_t total = 0;
    for (const std::size_t floats : plan_.slot_floats) {
        if (floats > std::numeric_limits<std::size_t>::max() / 4 / std::size_t(n) - total)
            throw Error("out of memory: the activations of " + std::to_string(n) + " images", ErrorKind::out_of_memory);
        offsets.push_back(total);
        total += round_up_64(floats * std::size_t(n) * sizeof(float));
    }
    const std::size_t workspaces_at = total;
    total += workspace_bytes_ * std::size_t(threads);
    planned_batch_ = 0;
    slots_.clear();
    arena_ = AlignedBuffer();
    arena_ = AlignedBuffer(total, "int8 activations and scratch", AlignedBuffer::Pages::huge);
    auto* base = static_cast<unsigned char*>(arena_.data());
    for (const std::size_t at : offsets) slots_.push_back(base + at);
    workspaces_ = base + workspaces_at;
    planned_batch_ = n;
    planned_threads_ = threads;
}

unsigned char* Int8Network::buffer_for(int i, int first_image) const {
    const PlannedStep& s = plan_.steps[std::size_t(i)];
    const std::size_t element = steps_[std::size_t(i)].float_out ? sizeof(float) : 1;
    return slots_[std::size_t(plan_.steps[std::size_t(s.owner)].slot)] +
           (std::size_t(s.channel_offset) + image_offset(s, first_image)) * element;
}

// Band by band: each task convolves kStemBandRows output rows of one image into its thread's
// workspace and quantizes them from there, while they are in cache. (The whole batch's float
// output, 2.8 MB an image, went to memory and back: the stem took 1.5 ms an image in the int8
// network against 0.6 ms for the convolution alone.) Bands do not change a value: each
// output's sum is the same whatever the cut (conv2d_parallel.hpp).
void Int8Network::run_stem(int i, const float* input, Images images) {
    const int n = images.count;
    const PlannedStep& s = plan_.steps[std::size_t(i)];
    const Step& step = steps_[std::size_t(i)];
    const Layer& l = *s.layer;
    const ActivationShape& out = l.shape;
    const ActivationShape& in = plan_.steps[0].layer->shape;
    kernels::Conv2dArgs a = conv_args(l, in, n, in.c, out.c);
    a.input = input + std::size_t(images.first) * std::size_t(in.h) * std::size_t(in.w) * std::size_t(in.c);
    a.packed = step.weights.packed;
    unsigned char* const to = buffer_for(i, images.first);
    const int bands = (out.h + kStemBandRows - 1) / kStemBandRows;
    parallel_for(n * bands, [&](int task) {
        const int b = task / bands, y0 = task % bands * kStemBandRows;
        const int rows = std::min(kStemBandRows, out.h - y0);
        unsigned char* const scratch = workspaces_ + workspace_bytes_ * std::size_t(thread_index());
        kernels::Conv2dArgs band = row_band(a, in.c, out.c, b, y0, rows);
        band.output = reinterpret_cast<float*>(scratch);
        band.workspace = scratch + stem_band_bytes_;
        fp32_table_.conv2d(band);
        const long first = (long(b) * out.h + y0) * out.w, pixels = long(rows) * out.w;
        if (!step.float_out && s.pixel_stride == out.c) {  // the usual case: one run of values
            table_.quantize_u8(band.output, pixels * out.c, step.scale, to + first * out.c);
            return;
        }
        for (long p = 0; p < pixels; ++p) {
            const float* from = band.output + p * out.c;
            if (step.float_out)
                std::memcpy(reinterpret_cast<float*>(to) + (first + p) * s.pixel_stride, from,
                            sizeof(float) * std::size_t(out.c));
            else
                table_.quantize_u8(from, out.c, step.scale, to + (first + p) * s.pixel_stride);
        }
    });
}

void Int8Network::run_conv(int i, Images images) {
    const int n = images.count;
    const PlannedStep& s = plan_.steps[std::size_t(i)];
    const Step& step = steps_[std::size_t(i)];
    const int src = s.inputs[0];
    kernels::Conv2dInt8Args a;
    set_window(a, *s.layer, plan_.steps[std::size_t(src)].layer->shape, n, plan_.steps[std::size_t(src)].pixel_stride,
               s.pixel_stride);
    a.in_c = plan_.steps[std::size_t(src)].layer->shape.c;
    a.out_c = s.layer->shape.c;
    a.input = buffer_for(src, images.first);
    a.weights = step.weights.ohwi;
    a.packed = step.weights.packed;
    a.scale = step.multiplier.data();
    a.bias = step.bias.data();
    a.output = buffer_for(i, images.first);
    a.float_output = step.float_out;
    a.relu = s.layer->relu;
    const long pixels = long(n) * a.out_h * a.out_w;
    const int tasks = int(std::min<long>(thread_count(), (pixels + 5) / 6));
    parallel_for(tasks, [&](int t) {
        kernels::Conv2dInt8Args part = a;
        part.pixel_begin = pixels * t / tasks;
        part.pixel_end = pixels * (t + 1) / tasks;
        part.workspace = workspaces_ + workspace_bytes_ * std::size_t(thread_index());
        if (part.pixel_end > part.pixel_begin) table_.conv2d(part);
    });
}

// Split by image and channel half, each a pooling of its own.
// Row bands of each image, a few per thread. (Halves of the channels, as before, had each
// thread read every cache line of the input: the 147x147 max pool took as long on two
// threads as on one.)
void Int8Network::run_pool(int i, Images images) {
    const int n = images.count;
    const PlannedStep& s = plan_.steps[std::size_t(i)];
    const int src = s.inputs[0];
    const ActivationShape& in = plan_.steps[std::size_t(src)].layer->shape;
    kernels::Pool2dU8Args a;
    set_window(a, *s.layer, in, n, plan_.steps[std::size_t(src)].pixel_stride, s.pixel_stride);
    a.c = in.c;
    a.rescale = steps_[std::size_t(i)].rescale;
    a.input = buffer_for(src, images.first);
    a.output = buffer_for(i, images.first);
    const kernels::Pool2dU8Fn pool = s.layer->op == LayerOp::maxpool2d ? table_.maxpool2d : table_.avgpool2d;
    const int bands = std::min(a.out_h, std::max(1, (kPoolTasksPerThread * thread_count() + n - 1) / n));
    parallel_for(n * bands, [&](int t) {
        const int b = t / bands, band = t % bands;
        const int y0 = a.out_h * band / bands, y1 = a.out_h * (band + 1) / bands;
        if (y1 > y0) pool(row_band(a, a.in_pixel_stride, a.out_pixel_stride, b, y0, y1 - y0));
    });
}

// Step i's output averaged over its pixels into features[b][offset + c].
void Int8Network::pool_step(int i, Images images, float* features, int offset) const {
    const int n = images.count;
    features += std::size_t(images.first) * std::size_t(feature_size_);
    const PlannedStep& s = plan_.steps[std::size_t(i)];
    const Step& step = steps_[std::size_t(i)];
    const ActivationShape& shape = s.layer->shape;
    const long pixels = long(shape.h) * shape.w;
    std::vector<double> sums(std::size_t(shape.c));
    const unsigned char* from = buffer_for(i, images.first);
    for (int b = 0; b < n; ++b) {
        std::fill(sums.begin(), sums.end(), 0.0);
        for (long p = b * pixels; p < (b + 1) * pixels; ++p)
            for (int c = 0; c < shape.c; ++c)
                sums[std::size_t(c)] += step.float_out ? double(reinterpret_cast<const float*>(from)[p * s.pixel_stride + c])
                                                       : double(from[p * s.pixel_stride + c]);
        const double unit = step.float_out ? 1.0 : double(step.scale);
        for (int c = 0; c < shape.c; ++c)
            features[std::size_t(b) * std::size_t(feature_size_) + std::size_t(offset + c)] =
                float(sums[std::size_t(c)] * unit / double(pixels));
    }
}

void Int8Network::run_steps(int first_step, int end_step, const float* input, Images images, float* features) {
    const int n = images.count;
    using Clock = std::chrono::steady_clock;
    for (int i = first_step; i < end_step; ++i) {
        const Clock::time_point step_start = step_seconds_ ? Clock::now() : Clock::time_point{};
        const PlannedStep& s = plan_.steps[std::size_t(i)];
        const Layer& l = *s.layer;
        switch (l.op) {
        case LayerOp::conv2d:
            if (steps_[std::size_t(i)].stem)
                run_stem(i, input, images);
            else
                run_conv(i, images);
            break;
        case LayerOp::maxpool2d:
        case LayerOp::avgpool2d:
            run_pool(i, images);
            break;
        case LayerOp::concat: {  // inputs placed in this concat's slice are already there
            int offset = 0;
            for (const int k : s.inputs) {
                const PlannedStep& part = plan_.steps[std::size_t(k)];
                if (part.owner != s.owner)
                    table_.copy_channels(buffer_for(k, images.first), part.pixel_stride, n * l.shape.h * l.shape.w,
                                         part.layer->shape.c, buffer_for(i, images.first), s.pixel_stride, offset,
                                         steps_[std::size_t(k)].scale / steps_[std::size_t(i)].scale);
                offset += part.layer->shape.c;
            }
            break;
        }
        default:
            break;  // input; dense and flatten were refused at construction
        }
        if (!pooled_offset_.empty() && pooled_offset_[std::size_t(i)] >= 0)
            pool_step(i, images, features, pooled_offset_[std::size_t(i)]);
        if (step_seconds_)
            (*step_seconds_)[std::size_t(i)] += std::chrono::duration<double>(Clock::now() - step_start).count();
    }
}

void Int8Network::time_steps(std::vector<double>* seconds) {
    if (seconds) seconds->resize(steps_.size(), 0.0);
    step_seconds_ = seconds;
}

void Int8Network::extract_features(const float* input, int n, float* features) {
    if (n <= 0) return;
    plan_buffers(n);
    // Steps rather than waves: this executor runs a wave's layers one after another.
    const auto first_step = [&](int wave) { return plan_.wave_starts[std::size_t(wave)]; };
    run_in_image_groups(
        plan_, n, thread_count(),
        [&](int first, int count) {
            run_steps(1, first_step(plan_.batched_from_wave), input, {first, count}, features);
        },
        [&](int from_wave) { run_steps(first_step(from_wave), int(steps_.size()), input, {0, n}, features); });
    if (pooled_offset_.empty()) pool_step(int(steps_.size()) - 1, {0, n}, features, 0);
}

}  // namespace tinception
