// Backward kernels: the gradients of the forward ops of kernel_table.hpp, for training by
// backpropagation. Same layout (NHWC activations with pixel strides, OIHW weights), same
// plain argument structs; a table of them per ISA, chosen at run time like the forward one.
// Included by ISA-flagged files, so: no Eigen, no STL containers here.
#pragma once
#include <cstddef>

#include "kernel_table.hpp"

namespace tinception::kernels {

// Gradients of one forward convolution call. With forward.relu set, the gradient reaching the
// pre-activation is grad_output where the forward output is > 0 and zero elsewhere, so the
// forward output must be the one that call wrote (forward.output, out_pixel_stride).
struct Conv2dBackwardArgs {
    Conv2dArgs forward;               // the forward call: geometry, input, weights, output
    const float* grad_output = nullptr;  // dL/d(output), [n][out_h][out_w] x grad_output_pixel_stride
    int grad_output_pixel_stride = 0;    // 0 means out_c
    float* grad_input = nullptr;      // dL/d(input), or nullptr to skip; [n][in_h][in_w] x stride
    int grad_input_pixel_stride = 0;  // 0 means in_c
    bool accumulate_input = false;    // add to grad_input (an input feeding several layers)
    float* grad_weights = nullptr;    // dL/d(weights), OIHW, overwritten; or nullptr
    float* grad_bias = nullptr;       // dL/d(bias), [out_c], overwritten; or nullptr
    void* workspace = nullptr;        // scratch of conv2d_backward_workspace_size bytes, 64-byte aligned
};

// Gradient of one forward pooling call: the forward input is read again (max pooling finds
// each window's winner the way the forward kernel did: the first largest, in window order).
struct Pool2dBackwardArgs {
    Pool2dArgs forward;                  // the forward call; its output is not read
    const float* grad_output = nullptr;  // [n][out_h][out_w] x grad_output_pixel_stride
    int grad_output_pixel_stride = 0;    // 0 means c
    float* grad_input = nullptr;         // [n][in_h][in_w] x grad_input_pixel_stride
    int grad_input_pixel_stride = 0;     // 0 means c
    bool accumulate_input = false;       // add to grad_input instead of overwriting it
};

// A dense layer followed by softmax and the mean cross-entropy over the batch, each row
// weighted: L = (1/n) sum_b row_weight[b] * -log softmax(x_b W^T + bias)[label[b]].
struct DenseSoftmaxBackwardArgs {
    const float* input = nullptr;        // [n][in_features]
    const float* weights = nullptr;      // [out_features][in_features]
    const float* bias = nullptr;         // [out_features] or nullptr
    const int* labels = nullptr;         // [n], each in [0, out_features)
    const float* row_weights = nullptr;  // [n], or nullptr for all 1
    float* grad_input = nullptr;         // [n][in_features], overwritten; or nullptr
    float* grad_weights = nullptr;       // [out_features][in_features], overwritten; or nullptr
    float* grad_bias = nullptr;          // [out_features], overwritten; or nullptr
    int n = 1, in_features = 0, out_features = 0;
};

// A view of one branch's channels inside a concatenated gradient: the branch's backward
// reads it through a pixel stride, so concat's backward copies nothing.
struct ChannelSliceView {
    const float* data = nullptr;  // channel `offset` of the first pixel
    int channels = 0;
    int pixel_stride = 0;         // the concatenated tensor's channel count
};

// Channels [offset, offset + channels) of a [pixels][total_channels] gradient.
inline ChannelSliceView concat_backward_slice(const float* concat_grad, int total_channels, int offset,
                                              int channels) {
    return ChannelSliceView{concat_grad + offset, channels, total_channels};
}

using Conv2dBackwardFn = void (*)(const Conv2dBackwardArgs&);
using Conv2dBackwardWorkspaceSizeFn = std::size_t (*)(const Conv2dBackwardArgs&);  // bytes
using Pool2dBackwardFn = void (*)(const Pool2dBackwardArgs&);
// grad_input[b][y][x][c] (+)= grad_output[b][c] / (h * w)
using GlobalAvgPoolBackwardFn = void (*)(const float* grad_output, float* grad_input, int n, int h, int w,
                                         int c, bool accumulate);
// Returns the loss L and writes the gradients asked for.
using DenseSoftmaxBackwardFn = double (*)(const DenseSoftmaxBackwardArgs&);

struct BackwardKernelTable {
    const char* isa_name = "";
    Conv2dBackwardFn conv2d_backward = nullptr;
    Conv2dBackwardWorkspaceSizeFn conv2d_backward_workspace_size = nullptr;  // null: none needed
    Pool2dBackwardFn maxpool2d_backward = nullptr;
    Pool2dBackwardFn avgpool2d_backward = nullptr;
    GlobalAvgPoolBackwardFn global_avgpool_backward = nullptr;
    DenseSoftmaxBackwardFn dense_softmax_backward = nullptr;
};

// Reference kernels: plain loops summing in double, the specification the others meet.
void conv2d_backward_ref(const Conv2dBackwardArgs& a);
void maxpool2d_backward_ref(const Pool2dBackwardArgs& a);
void avgpool2d_backward_ref(const Pool2dBackwardArgs& a);
void global_avgpool_backward_ref(const float* grad_output, float* grad_input, int n, int h, int w, int c,
                                 bool accumulate);
double dense_softmax_backward_ref(const DenseSoftmaxBackwardArgs& a);

const BackwardKernelTable& reference_backward_kernels();
// nullptr when this build leaves the ISA out or the CPU lacks it (as avx2_kernels()).
const BackwardKernelTable* avx2_backward_kernels();
const BackwardKernelTable* avx512_backward_kernels();
// Every backward table runnable here, reference first: the entries filled, count returned.
int available_backward_tables(const BackwardKernelTable* tables[3]);

}  // namespace tinception::kernels
