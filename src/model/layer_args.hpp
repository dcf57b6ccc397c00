// Kernel arguments from a checked layer: the window geometry convolution and pooling share,
// and a conv2d layer's arguments, the same for the executor and for packing its weights.
#pragma once
#include "kernel_table.hpp"
#include "weights/layer_graph.hpp"

namespace tinception {

// The window geometry convolution and pooling arguments share.
template <typename WindowArgs>
inline void set_window(WindowArgs& a, const Layer& l, const ActivationShape& in, int n, int in_stride, int out_stride) {
    a.n = n;
    a.in_h = in.h;
    a.in_w = in.w;
    a.out_h = l.shape.h;
    a.out_w = l.shape.w;
    a.kernel_h = l.kernel_h;
    a.kernel_w = l.kernel_w;
    a.stride_h = l.stride_h;
    a.stride_w = l.stride_w;
    a.pad_top = l.pad_top;
    a.pad_left = l.pad_left;
    a.in_pixel_stride = in_stride;
    a.out_pixel_stride = out_stride;
}

// A conv2d layer's arguments for n images, all but the input and output pointers.
inline kernels::Conv2dArgs conv_args(const Layer& l, const ActivationShape& in, int n, int in_stride, int out_stride) {
    kernels::Conv2dArgs a;
    set_window(a, l, in, n, in_stride, out_stride);
    a.weights = l.weights->data;
    a.bias = l.bias->data;
    a.in_c = in.c;
    a.out_c = l.shape.c;
    a.relu = l.relu;
    return a;
}

// A conv2d layer's arguments for one image with tight strides: what its weights are packed for.
inline kernels::Conv2dArgs conv_args_for_packing(const LayerGraph& graph, const Layer& l) {
    const ActivationShape& in = graph.layers()[std::size_t(l.inputs[0])].shape;
    return conv_args(l, in, 1, in.c, l.shape.c);
}

}  // namespace tinception
