// Forward and backward through a span of the graph. Each layer keeps its own output buffer
// (the backward kernels read convolution and pooling inputs, and ReLU masks read outputs);
// a layer read only by a concat takes its gradient as a view of the concat's, so concat's
// backward copies nothing; every other gradient is a buffer its consumers add into.
#include "finetune/span_backprop.hpp"

#include <algorithm>
#include <cstring>

#include "error.hpp"
#include "layers/conv2d_parallel.hpp"
#include "layers/pool2d_parallel.hpp"
#include "model/layer_args.hpp"
#include "parallel/thread_pool.hpp"

namespace tinception {
namespace {

std::size_t floats_for(int n, const ActivationShape& s) { return std::size_t(n) * s.h * s.w * s.c; }

// Output channels per task of a weight gradient: a whole panel of every table's GEMM, so a
// cut changes no sum and the gradients are the same bits for any thread count.
constexpr int kChannelGroup = 32;

// The part of a backward call that computes the weight and bias gradients of output
// channels [first, first + count) alone.
kernels::Conv2dBackwardArgs channel_group(kernels::Conv2dBackwardArgs b, int first, int count) {
    const long k = long(b.forward.in_c) * b.forward.kernel_h * b.forward.kernel_w;
    const int out_c = b.forward.out_c;
    b.forward.out_c = count;
    b.forward.weights += first * k, b.forward.bias += first;
    b.forward.output += first;
    b.forward.out_pixel_stride = b.forward.out_pixel_stride ? b.forward.out_pixel_stride : out_c;
    b.grad_output += first;
    b.grad_output_pixel_stride = b.grad_output_pixel_stride ? b.grad_output_pixel_stride : out_c;
    b.grad_weights += first * k, b.grad_bias += first;
    b.grad_input = nullptr;
    return b;
}

// The part of a backward call that computes image `image`'s input gradient alone.
kernels::Conv2dBackwardArgs one_image(kernels::Conv2dBackwardArgs b, int image) {
    kernels::Conv2dArgs& f = b.forward;
    const long in_floats = long(f.in_h) * f.in_w * f.in_c, out_pixels = long(f.out_h) * f.out_w;
    f.n = 1;
    f.input += image * in_floats, f.output += image * out_pixels * f.out_c;
    b.grad_output += image * out_pixels * (b.grad_output_pixel_stride ? b.grad_output_pixel_stride : f.out_c);
    b.grad_input += image * in_floats;
    b.grad_weights = nullptr, b.grad_bias = nullptr;
    return b;
}

}  // namespace

SpanBackprop::SpanBackprop(const LayerGraph& graph, const std::string& from, const std::string& to,
                           const kernels::KernelTable& forward_table,
                           const kernels::BackwardKernelTable& backward_table,
                           const std::vector<std::string>& taps)
    : forward_table_(forward_table), backward_table_(backward_table) {
    const int first = graph.index_of(from), last = graph.index_of(to);
    if (first < 0) throw Error("no layer named '" + from + "' to fine-tune from");
    if (last < 0) throw Error("no layer named '" + to + "' to fine-tune up to");
    const std::vector<int> frozen = graph.needed_for(first);
    std::vector<int> node_of(graph.layers().size(), -2);  // -2: outside the span
    node_of[std::size_t(first)] = -1;
    for (const int li : graph.needed_for(last)) {
        if (std::find(frozen.begin(), frozen.end(), li) != frozen.end()) continue;
        const Layer& l = graph.layers()[std::size_t(li)];
        if (l.op != LayerOp::conv2d && l.op != LayerOp::maxpool2d && l.op != LayerOp::avgpool2d &&
            l.op != LayerOp::concat)
            throw Error("layer '" + l.name + "' (" + op_name(l.op) + ") cannot be fine-tuned: only conv2d, "
                        "pooling and concat layers can");
        Node node;
        node.layer = &l;
        for (const int in : l.inputs) {
            if (node_of[std::size_t(in)] == -2)
                throw Error("layer '" + l.name + "' reads '" + graph.layers()[std::size_t(in)].name +
                            "', which is neither '" + from + "' nor fine-tuned after it");
            node.inputs.push_back(node_of[std::size_t(in)]);
        }
        if (l.op == LayerOp::conv2d) {
            TrainableConv c;
            c.name = l.name;
            c.weights.assign(l.weights->data, l.weights->data + l.weights->count);
            c.bias.assign(l.bias->data, l.bias->data + l.bias->count);
            c.grad_weights.assign(c.weights.size(), 0.0f);
            c.grad_bias.assign(c.bias.size(), 0.0f);
            node.conv = int(convs_.size());
            convs_.push_back(std::move(c));
        }
        node_of[std::size_t(li)] = int(nodes_.size());
        nodes_.push_back(std::move(node));
    }
    if (nodes_.empty() || node_of[std::size_t(last)] != int(nodes_.size()) - 1)
        throw Error("layer '" + to + "' does not follow '" + from + "': nothing to fine-tune between them");
    for (const Node& node : nodes_)
        for (const int in : node.inputs)
            if (in >= 0) ++nodes_[std::size_t(in)].consumers;
    for (const std::string& name : taps) {
        const int li = graph.index_of(name);
        const int node = li < 0 ? -2 : node_of[std::size_t(li)];
        if (node < 0 || node == int(nodes_.size()) - 1)
            throw Error("layer '" + name + "' is not computed after '" + from + "' on the way to '" + to + "'");
        taps_.push_back(node);
    }
    for (const Node& node : nodes_)
        if (node.layer->op == LayerOp::concat)
            for (const int in : node.inputs)
                if (in >= 0 && nodes_[std::size_t(in)].consumers == 1 &&
                    std::count(node.inputs.begin(), node.inputs.end(), in) == 1 &&
                    std::find(taps_.begin(), taps_.end(), in) == taps_.end())  // a tap's own gradient adds in
                    nodes_[std::size_t(in)].gradient_is_view = true;
    input_shape_ = graph.layers()[std::size_t(first)].shape;
    output_shape_ = nodes_.back().layer->shape;
}

const ActivationShape& SpanBackprop::shape_of(int node) const {
    return node < 0 ? input_shape_ : nodes_[std::size_t(node)].layer->shape;
}

const float* SpanBackprop::output_of(int node) const {
    return node < 0 ? input_ : nodes_[std::size_t(node)].output.floats();
}

float* SpanBackprop::owned_gradient_of(int node) {
    return node < 0 ? input_gradient_.floats() : nodes_[std::size_t(node)].gradient.floats();
}

Conv2dWorkspaces SpanBackprop::thread_workspaces(std::size_t bytes_each) {
    bytes_each = round_up_64(bytes_each);
    const int threads = thread_count();
    if (bytes_each * std::size_t(threads) > workspace_.size())
        workspace_ = AlignedBuffer(bytes_each * std::size_t(threads), "fine-tuning scratch");
    return Conv2dWorkspaces{static_cast<unsigned char*>(workspace_.data()), bytes_each, threads};
}

const float* SpanBackprop::forward(const float* input, int n) {
    if (n <= 0) throw Error("fine-tuning needs at least one image, got " + std::to_string(n), ErrorKind::internal);
    if (n != n_) {
        for (Node& node : nodes_) {
            node.output = AlignedBuffer(floats_for(n, node.layer->shape) * sizeof(float), "fine-tuning activations");
            if (!node.gradient_is_view)
                node.gradient = AlignedBuffer(floats_for(n, node.layer->shape) * sizeof(float), "fine-tuning gradients");
        }
        input_gradient_ = AlignedBuffer(floats_for(n, input_shape_) * sizeof(float), "fine-tuning gradients");
        n_ = n;
    }
    input_ = input;
    for (Node& node : nodes_) forward_node(node, n);
    return nodes_.back().output.floats();
}

void SpanBackprop::forward_node(Node& node, int n) {
    const Layer& l = *node.layer;
    const ActivationShape& in = shape_of(node.inputs[0]);
    if (l.op == LayerOp::conv2d) {
        const TrainableConv& c = convs_[std::size_t(node.conv)];
        kernels::Conv2dArgs a = conv_args(l, in, n, in.c, l.shape.c);
        a.weights = c.weights.data(), a.bias = c.bias.data();
        a.input = output_of(node.inputs[0]), a.output = node.output.floats();
        conv2d_parallel(forward_table_, a, thread_workspaces(conv2d_workspace_bytes(forward_table_, a)));
    } else if (l.op == LayerOp::maxpool2d || l.op == LayerOp::avgpool2d) {
        kernels::Pool2dArgs a;
        set_window(a, l, in, n, in.c, l.shape.c);
        a.c = in.c, a.input = output_of(node.inputs[0]), a.output = node.output.floats();
        pool2d_parallel(l.op == LayerOp::maxpool2d ? forward_table_.maxpool2d : forward_table_.avgpool2d, a);
    } else {
        int offset = 0;
        for (const int k : node.inputs) {
            const int c = shape_of(k).c;
            forward_table_.copy_channels(output_of(k), n * l.shape.h * l.shape.w, c, node.output.floats(), l.shape.c,
                                         offset);
            offset += c;
        }
    }
}

const float* SpanBackprop::backward(const float* grad_output, const std::vector<const float*>& tap_gradients) {
    if (!input_) throw Error("fine-tuning: backward() before forward()", ErrorKind::internal);
    if (!tap_gradients.empty() && tap_gradients.size() != taps_.size())
        throw Error("fine-tuning: " + std::to_string(tap_gradients.size()) + " tap gradients for " +
                    std::to_string(taps_.size()) + " taps", ErrorKind::internal);
    for (Node& node : nodes_)
        if (!node.gradient_is_view) std::memset(node.gradient.data(), 0, floats_for(n_, node.layer->shape) * sizeof(float));
    for (std::size_t t = 0; t < tap_gradients.size(); ++t)  // consumers add theirs on top
        if (tap_gradients[t])
            std::memcpy(nodes_[std::size_t(taps_[t])].gradient.data(), tap_gradients[t],
                        floats_for(n_, tap_shape(t)) * sizeof(float));
    std::memset(input_gradient_.data(), 0, floats_for(n_, input_shape_) * sizeof(float));
    Node& top = nodes_.back();
    top.grad_read = grad_output, top.grad_stride = top.layer->shape.c;
    for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
        if (it != nodes_.rbegin() && !it->gradient_is_view)
            it->grad_read = it->gradient.floats(), it->grad_stride = it->layer->shape.c;
        backward_node(*it, n_);
    }
    return input_gradient_.floats();
}

void SpanBackprop::backward_node(Node& node, int n) {
    const Layer& l = *node.layer;
    const ActivationShape& in = shape_of(node.inputs[0]);
    if (l.op == LayerOp::conv2d) {
        TrainableConv& c = convs_[std::size_t(node.conv)];
        kernels::Conv2dBackwardArgs b;
        b.forward = conv_args(l, in, n, in.c, l.shape.c);
        b.forward.weights = c.weights.data(), b.forward.bias = c.bias.data();
        b.forward.input = output_of(node.inputs[0]), b.forward.output = node.output.floats();
        b.grad_output = node.grad_read, b.grad_output_pixel_stride = node.grad_stride;
        b.grad_input = owned_gradient_of(node.inputs[0]), b.accumulate_input = true;
        b.grad_weights = c.grad_weights.data(), b.grad_bias = c.grad_bias.data();
        // weight gradients by channel group, then input gradients by image: each task writes
        // its own part, summed in the order an uncut call sums it
        const int groups = (l.shape.c + kChannelGroup - 1) / kChannelGroup;
        const auto group = [&](int g) {
            return channel_group(b, g * kChannelGroup, std::min(kChannelGroup, l.shape.c - g * kChannelGroup));
        };
        const auto bytes = [&](const kernels::Conv2dBackwardArgs& call) {
            return backward_table_.conv2d_backward_workspace_size ? backward_table_.conv2d_backward_workspace_size(call)
                                                                  : 0;
        };
        const Conv2dWorkspaces w = thread_workspaces(std::max(bytes(group(0)), bytes(one_image(b, 0))));
        parallel_for(groups, [&](int g) {
            kernels::Conv2dBackwardArgs call = group(g);
            call.workspace = w.for_thread(thread_index());
            backward_table_.conv2d_backward(call);
        });
        parallel_for(n, [&](int image) {
            kernels::Conv2dBackwardArgs call = one_image(b, image);
            call.workspace = w.for_thread(thread_index());
            backward_table_.conv2d_backward(call);
        });
    } else if (l.op == LayerOp::maxpool2d || l.op == LayerOp::avgpool2d) {
        kernels::Pool2dBackwardArgs b;
        set_window(b.forward, l, in, n, in.c, l.shape.c);
        b.forward.c = in.c, b.forward.input = output_of(node.inputs[0]);
        b.grad_output = node.grad_read, b.grad_output_pixel_stride = node.grad_stride;
        b.grad_input = owned_gradient_of(node.inputs[0]), b.accumulate_input = true;
        const kernels::Pool2dBackwardFn pool =
            l.op == LayerOp::maxpool2d ? backward_table_.maxpool2d_backward : backward_table_.avgpool2d_backward;
        parallel_for(n, [&](int image) {  // each image's gradient alone
            kernels::Pool2dBackwardArgs call = b;
            const long in_floats = long(in.h) * in.w * in.c, out_pixels = long(l.shape.h) * l.shape.w;
            call.forward.n = 1;
            call.forward.input += image * in_floats;
            call.grad_output += image * out_pixels * node.grad_stride;
            call.grad_input += image * in_floats;
            pool(call);
        });
    } else {
        // A part read only here sees its slice in place; any other part adds its slice.
        const long pixels = long(n) * l.shape.h * l.shape.w;
        int offset = 0;
        for (const int k : node.inputs) {
            const int c = shape_of(k).c;
            if (k >= 0 && nodes_[std::size_t(k)].gradient_is_view) {
                const kernels::ChannelSliceView view =
                    kernels::concat_backward_slice(node.grad_read, node.grad_stride, offset, c);
                nodes_[std::size_t(k)].grad_read = view.data, nodes_[std::size_t(k)].grad_stride = view.pixel_stride;
            } else {
                float* dst = owned_gradient_of(k);
                for (long p = 0; p < pixels; ++p)
                    for (int ch = 0; ch < c; ++ch) dst[p * c + ch] += node.grad_read[p * node.grad_stride + offset + ch];
            }
            offset += c;
        }
    }
}

}  // namespace tinception
