// Where each step of a Network reads and writes (slots, slices, the images of a run) and the
// kernel arguments that follow, including the pool branches run the other way round
// (Network::pools_after_conv). The executor that runs them is network.cpp.
#include "model/network.hpp"

#include "model/layer_args.hpp"

namespace tinception {

float* Network::buffer_for(int step_index) {
    const PlannedStep& s = plan_.steps[std::size_t(step_index)];
    return slots_[std::size_t(plan_.steps[std::size_t(s.owner)].slot)] + s.channel_offset;
}

// The batch's first image in step i's output: a slot holds [n][h][w][pixel_stride] floats,
// and an output of the early waves alone holds just the images of the current run.
float* Network::image_buffer(int step_index, const Batch& batch) {
    return buffer_for(step_index) + image_offset(plan_.steps[std::size_t(step_index)], batch.first);
}

const float* Network::input_of(int step_index, const Batch& batch) {
    if (step_index != 0) return image_buffer(step_index, batch);
    const ActivationShape in = input_shape();
    return batch.input + std::size_t(batch.first) * std::size_t(in.h) * std::size_t(in.w) * std::size_t(in.c);
}

kernels::Conv2dArgs Network::conv_step_args(int i, const Batch& batch) {
    const PlannedStep& s = plan_.steps[std::size_t(i)];
    const PlannedStep& src = plan_.steps[std::size_t(s.inputs[0])];
    kernels::Conv2dArgs a = conv_args(*s.layer, src.layer->shape, batch.count, src.pixel_stride, s.pixel_stride);
    a.input = input_of(s.inputs[0], batch);
    a.output = image_buffer(i, batch);
    a.packed = steps_[std::size_t(i)].packed;
    return a;
}

kernels::Pool2dArgs Network::pool_step_args(int i, const Batch& batch) {
    const PlannedStep& s = plan_.steps[std::size_t(i)];
    const PlannedStep& src = plan_.steps[std::size_t(s.inputs[0])];
    kernels::Pool2dArgs a;
    set_window(a, *s.layer, src.layer->shape, batch.count, src.pixel_stride, s.pixel_stride);
    a.input = input_of(s.inputs[0], batch);
    a.output = image_buffer(i, batch);
    a.c = src.layer->shape.c;
    return a;
}

kernels::Pool2dFn Network::pool_kernel(int i) const {
    return plan_.steps[std::size_t(i)].layer->op == LayerOp::maxpool2d ? table_.maxpool2d : table_.avgpool2d;
}

bool Network::pools_after_conv(int i) const {
    const int partner = pool_partner_[std::size_t(i)];
    if (partner < 0 || observer_) return false;
    const int pool = plan_.steps[std::size_t(i)].layer->op == LayerOp::avgpool2d ? i : partner;
    return pooled_offset_.empty() || pooled_offset_[std::size_t(pool)] < 0;
}

bool Network::runs_conv(int i) const {
    const LayerOp op = plan_.steps[std::size_t(i)].layer->op;
    return pools_after_conv(i) ? op == LayerOp::avgpool2d : op == LayerOp::conv2d;
}

bool Network::runs_pool(int i) const {
    const LayerOp op = plan_.steps[std::size_t(i)].layer->op;
    if (pools_after_conv(i)) return op == LayerOp::conv2d;
    return op == LayerOp::maxpool2d || op == LayerOp::avgpool2d;
}

// Dense pixels of the convolution's channels, in the pooling's slot (sized for its own wider
// pixels), the current run's images from the start when that slot is the early waves' alone.
float* Network::unpooled_buffer(int p, const Batch& batch) {
    const PlannedStep& s = plan_.steps[std::size_t(p)];
    const ActivationShape& shape = s.layer->shape;
    const int conv_c = plan_.steps[std::size_t(pool_partner_[std::size_t(p)])].layer->shape.c;
    const std::size_t image = s.early_only ? 0 : std::size_t(batch.first);
    return buffer_for(p) + image * std::size_t(shape.h) * std::size_t(shape.w) * std::size_t(conv_c);
}

kernels::Conv2dArgs Network::conv_before_pool_args(int p, const Batch& batch) {
    const int c = pool_partner_[std::size_t(p)];
    const PlannedStep& src = plan_.steps[std::size_t(plan_.steps[std::size_t(p)].inputs[0])];
    const Layer& conv = *plan_.steps[std::size_t(c)].layer;
    kernels::Conv2dArgs a = conv_args(conv, src.layer->shape, batch.count, src.pixel_stride, conv.shape.c);
    a.input = input_of(plan_.steps[std::size_t(p)].inputs[0], batch);
    a.output = unpooled_buffer(p, batch);
    a.packed = steps_[std::size_t(c)].packed;
    a.bias = nullptr;  // added after the pooling, whose weights sum to one
    a.relu = false;
    return a;
}

kernels::Pool2dArgs Network::pool_after_conv_args(int c, const Batch& batch) {
    const int p = pool_partner_[std::size_t(c)];
    const PlannedStep& s = plan_.steps[std::size_t(c)];
    const ActivationShape& in = plan_.steps[std::size_t(plan_.steps[std::size_t(p)].inputs[0])].layer->shape;
    kernels::Pool2dArgs a;
    set_window(a, *plan_.steps[std::size_t(p)].layer, in, batch.count, s.layer->shape.c, s.pixel_stride);
    a.input = unpooled_buffer(p, batch);
    a.output = image_buffer(c, batch);
    a.c = s.layer->shape.c;
    a.bias = s.layer->bias->data;
    a.relu = s.layer->relu;
    return a;
}

kernels::Conv2dArgs Network::run_conv_args(int i, const Batch& batch) {
    return pools_after_conv(i) ? conv_before_pool_args(i, batch) : conv_step_args(i, batch);
}

kernels::Pool2dArgs Network::run_pool_args(int i, const Batch& batch) {
    return pools_after_conv(i) ? pool_after_conv_args(i, batch) : pool_step_args(i, batch);
}

}  // namespace tinception
