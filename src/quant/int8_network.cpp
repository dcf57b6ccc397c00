// The int8 executor: per step, the scale of its output tensor, and for convolutions the
// epilogue's per-channel multiplier and bias over weights from Int8LayerWeights.
#include "quant/int8_network.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "error.hpp"
#include "layers/row_band.hpp"
#include "model/feature_extractor.hpp"
#include "model/layer_args.hpp"
#include "parallel/thread_pool.hpp"
#include "weights/weight_file.hpp"

namespace tinception {

struct Int8Network::Step {
    float scale = 0.0f;        // fp32 value of one u8 step of this output (unused when float_out)
    bool float_out = false;    // written into the float output buffer
    float rescale = 1.0f;      // pooling: input scale / output scale
    Int8LayerWeights::Conv weights;  // conv
    std::vector<float> multiplier, bias;
};

namespace {

float range_of(const ActivationRanges& ranges, const Layer& l) {
    const auto it = ranges.find(l.name);
    if (it == ranges.end()) throw Error("int8: no calibrated range for layer '" + l.name + "'");
    return it->second;
}

// No cell of any window falls outside the input.
bool reads_no_padding(const kernels::Conv2dInt8Args& a) {
    return a.pad_top == 0 && a.pad_left == 0 && (a.out_h - 1) * a.stride_h + a.kernel_h <= a.in_h &&
           (a.out_w - 1) * a.stride_w + a.kernel_w <= a.in_w;
}

}  // namespace

Int8Network::Int8Network(const WeightFile& weights, const std::string& output_layer, const ActivationRanges& ranges,
                         const kernels::Int8KernelTable& table, const PackedCacheChoice& cache)
    : weights_(weights), table_(table), input_(preprocessing_of(weights)),
      plan_(plan_network(weights.graph(), output_layer, weights.path())) {
    if (!std::isfinite(input_.scale) || input_.scale == 0.0f || !std::isfinite(input_.offset))
        throw Error(weights.path() + ": int8 needs a finite, non-zero input_scale and a finite input_offset");
    input_stride_ = (plan_.steps.front().layer->shape.c + 3) / 4 * 4;
    const int last = int(plan_.steps.size()) - 1;
    std::vector<int> conv_layers;
    for (int i = 1; i <= last; ++i)
        if (plan_.steps[std::size_t(i)].layer->op == LayerOp::conv2d)
            conv_layers.push_back(weights.graph().index_of(plan_.steps[std::size_t(i)].layer->name));
    layer_weights_ = std::make_unique<Int8LayerWeights>(weights, table_, cache, conv_layers);
    steps_.resize(plan_.steps.size());
    steps_[0].scale = input_.scale;  // a u8 input step is a pixel
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
        const bool reads_input = std::find(s.inputs.begin(), s.inputs.end(), 0) != s.inputs.end();
        // Pixel 0 is then not the value 0, which padding, pooling and copies would take it for.
        if (reads_input && input_.offset != 0.0f && l.op != LayerOp::conv2d)
            throw Error(weights.path() + ": int8 cannot run layer '" + l.name + "' on the input, whose pixel 0 is " +
                        std::to_string(input_.offset) + ", not 0 (input_offset); use fp32 or bf16");
        if (takes_own_range(plan_, i))
            step.scale = range_of(ranges, l) / 255.0f;
        else if (s.owner != i)
            step.scale = range_of(ranges, *plan_.steps[std::size_t(s.owner)].layer) / 255.0f;
        else
            step.scale = steps_[std::size_t(src)].scale;  // a pooling
        if (pool) step.rescale = steps_[std::size_t(src)].scale / step.scale;
        if (l.op != LayerOp::conv2d) continue;
        const ActivationShape& in = plan_.steps[std::size_t(src)].layer->shape;
        const int in_c = src == 0 ? input_stride_ : in.c;
        kernels::Conv2dInt8Args a;
        set_window(a, l, in, 1, in_c, l.shape.c);
        a.in_c = in_c;
        a.out_c = l.shape.c;
        if (src == 0 && input_.offset != 0.0f && !reads_no_padding(a))
            throw Error(weights.path() + ": int8 cannot run layer '" + l.name + "': it pads the input, whose pixel 0 is " +
                        std::to_string(input_.offset) + ", not 0 (input_offset); use fp32 or bf16");
        step.weights = layer_weights_->conv(l, in, in_c);
        const float in_scale = steps_[std::size_t(src)].scale;
        const float out_scale = step.float_out ? 1.0f : step.scale;
        for (int oc = 0; oc < l.shape.c; ++oc) {
            const float weight_scale = step.weights.weight_scale[std::size_t(oc)];
            // value = pixel * scale + offset: the offset's share of every (unpadded) window.
            const float offset_term =
                src == 0 ? input_.offset * weight_scale * step.weights.level_sum[std::size_t(oc)] : 0.0f;
            step.multiplier.push_back(in_scale * weight_scale / out_scale);
            step.bias.push_back((l.bias->data[oc] + offset_term) / out_scale);
        }
        if (table_.conv2d_workspace_size)
            workspace_bytes_ = std::max(workspace_bytes_, round_up_64(table_.conv2d_workspace_size(a)));
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
// uses the first quarter), then the u8 input of n images, then one convolution workspace per
// thread.
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
    const ActivationShape in = input_shape();
    const std::size_t input_at = total;
    total += round_up_64(std::size_t(n) * std::size_t(in.h) * std::size_t(in.w) * std::size_t(input_stride_));
    const std::size_t workspaces_at = total;
    total += workspace_bytes_ * std::size_t(threads);
    planned_batch_ = 0;
    slots_.clear();
    arena_ = AlignedBuffer();
    arena_ = AlignedBuffer(total, "int8 activations and scratch", AlignedBuffer::Pages::huge);
    auto* base = static_cast<unsigned char*>(arena_.data());
    for (const std::size_t at : offsets) slots_.push_back(base + at);
    input_u8_ = base + input_at;
    workspaces_ = base + workspaces_at;
    planned_batch_ = n;
    planned_threads_ = threads;
}

unsigned char* Int8Network::buffer_for(int i, Images images) const {
    const PlannedStep& s = plan_.steps[std::size_t(i)];
    const std::size_t image_pixels = std::size_t(s.layer->shape.h) * std::size_t(s.layer->shape.w);
    if (i == 0) return input_u8_ + std::size_t(images.first) * image_pixels * std::size_t(input_stride_);
    const std::size_t element = steps_[std::size_t(i)].float_out ? sizeof(float) : 1;
    const int slot = plan_.steps[std::size_t(s.owner)].slot;
    // An early buffer's images each have a region of the slot's largest image: the images of
    // a group run their early layers unsynchronised, so one may write a later layer's output
    // into a slot while another still reads an earlier layer's there.
    const std::size_t image_at = s.early_only ? std::size_t(images.early_slot) * plan_.slot_floats[std::size_t(slot)] * sizeof(float)
                                              : std::size_t(images.first) * image_pixels * std::size_t(s.pixel_stride) * element;
    return slots_[std::size_t(slot)] + std::size_t(s.channel_offset) * element + image_at;
}

// The images' float input to u8 pixels of input_stride_ bytes, in a few ranges of pixels per
// thread.
void Int8Network::quantize_input(const float* input, Images images) {
    const ActivationShape in = input_shape();
    const long image_pixels = long(in.h) * in.w;
    const long pixels = image_pixels * images.count;
    const float* from = input + std::size_t(images.first) * std::size_t(image_pixels) * std::size_t(in.c);
    unsigned char* const to = buffer_for(0, images);
    const int tasks = int(std::min<long>(pixels, kPoolTasksPerThread * thread_count()));
    parallel_for(tasks, [&](int t) {
        const long p0 = pixels * t / tasks, p1 = pixels * (t + 1) / tasks;
        table_.quantize_u8(from + p0 * in.c, p1 - p0, in.c, input_.offset, input_.scale, to + p0 * input_stride_,
                           input_stride_);
    });
}

void Int8Network::run_conv(int i, Images images) {
    const int n = images.count;
    const PlannedStep& s = plan_.steps[std::size_t(i)];
    const Step& step = steps_[std::size_t(i)];
    const int src = s.inputs[0];
    kernels::Conv2dInt8Args a;
    set_window(a, *s.layer, plan_.steps[std::size_t(src)].layer->shape, n, stride_of(src), s.pixel_stride);
    a.in_c = src == 0 ? input_stride_ : plan_.steps[std::size_t(src)].layer->shape.c;
    a.out_c = s.layer->shape.c;
    a.input = buffer_for(src, images);
    a.weights = step.weights.ohwi;
    a.packed = step.weights.packed;
    a.scale = step.multiplier.data();
    a.bias = step.bias.data();
    a.output = buffer_for(i, images);
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
    set_window(a, *s.layer, in, n, stride_of(src), s.pixel_stride);
    a.c = in.c;
    a.rescale = steps_[std::size_t(i)].rescale;
    a.input = buffer_for(src, images);
    a.output = buffer_for(i, images);
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
    const unsigned char* from = buffer_for(i, images);
    const long stride = stride_of(i);
    for (int b = 0; b < n; ++b) {
        std::fill(sums.begin(), sums.end(), 0.0);
        for (long p = b * pixels; p < (b + 1) * pixels; ++p)
            for (int c = 0; c < shape.c; ++c)
                sums[std::size_t(c)] += step.float_out ? double(reinterpret_cast<const float*>(from)[p * stride + c])
                                                       : double(from[p * stride + c]);
        const double unit = step.float_out ? 1.0 : double(step.scale);
        for (int c = 0; c < shape.c; ++c)
            features[std::size_t(b) * std::size_t(feature_size_) + std::size_t(offset + c)] =
                float(sums[std::size_t(c)] * unit / double(pixels));
    }
}

void Int8Network::run_steps(int first_step, int end_step, const float* input, Images images, float* features) {
    const int n = images.count;
    using Clock = std::chrono::steady_clock;
    if (first_step == 1) {  // timed as the input step's
        const Clock::time_point start = step_seconds_ ? Clock::now() : Clock::time_point{};
        quantize_input(input, images);
        if (step_seconds_) (*step_seconds_)[0] += std::chrono::duration<double>(Clock::now() - start).count();
    }
    for (int i = first_step; i < end_step; ++i) {
        const Clock::time_point step_start = step_seconds_ ? Clock::now() : Clock::time_point{};
        const PlannedStep& s = plan_.steps[std::size_t(i)];
        const Layer& l = *s.layer;
        switch (l.op) {
        case LayerOp::conv2d:
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
                    table_.copy_channels(buffer_for(k, images), stride_of(k), n * l.shape.h * l.shape.w,
                                         part.layer->shape.c, buffer_for(i, images), s.pixel_stride, offset,
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
    const int early_end = plan_.wave_starts[std::size_t(plan_.batched_from_wave)];
    const int end = int(steps_.size());
    if (n <= thread_count() || plan_.batched_from_wave <= 1) {
        run_steps(1, end, input, {0, n}, features);
    } else if (step_seconds_) {
        // Per-step timing adds to shared totals: the early waves a group of images at a time,
        // each layer cut across the threads.
        run_in_image_groups(
            plan_, n, thread_count(), [&](int first, int count) { run_steps(1, early_end, input, {first, count}, features); },
            [&](int from_wave) { run_steps(plan_.wave_starts[std::size_t(from_wave)], end, input, {0, n}, features); });
    } else {
        // Each image through the early waves on one thread, with no barrier between its
        // layers (their own parallel_for runs inline in a task), in its thread's early slot.
        // Images are taken from one queue for the whole batch, not in groups with a barrier
        // each: a thread that runs slower (a virtual CPU's speed drifts) then does fewer.
        parallel_for(n, [&](int k) { run_steps(1, early_end, input, {k, 1, thread_index()}, features); });
        run_steps(early_end, end, input, {0, n}, features);
    }
    if (pooled_offset_.empty()) pool_step(int(steps_.size()) - 1, {0, n}, features, 0);
}

}  // namespace tinception
