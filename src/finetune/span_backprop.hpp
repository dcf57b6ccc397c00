// A span of the checked graph, trained by backpropagation: the layers that lie after a
// frozen layer FROM and lead to an output layer TO (an Inception block or several). forward()
// runs them on FROM's activations and keeps every activation the gradients need; backward()
// takes dL/d(TO's output) back through them to each convolution's weights and bias and to
// FROM's activations. The span's convolutions train their own copies of the file's weights.
// Layers of the span besides TO may be tapped: their outputs are read after forward() and
// backward() takes a gradient for each as well (a layer set pooling several blocks). Both
// passes run on the kernel tables given, across the thread pool, with the same bits for any
// thread count.
#pragma once
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "backward/backward_kernels.hpp"
#include "kernel_table.hpp"
#include "layers/conv2d_workspace.hpp"
#include "weights/layer_graph.hpp"

namespace tinception {

// One convolution of the span: the weights it runs with and their gradients from the last
// backward(), OIHW and [out_c].
struct TrainableConv {
    std::string name;
    std::vector<float> weights, bias;
    std::vector<float> grad_weights, grad_bias;
};

class SpanBackprop {
public:
    // Throws Error naming the layer when FROM or TO is missing, TO does not follow FROM, a
    // layer of the span reads a layer outside it other than FROM, or one is not a convolution,
    // pooling or concat; or a tapped layer is not in the span, or is TO.
    SpanBackprop(const LayerGraph& graph, const std::string& from, const std::string& to,
                 const kernels::KernelTable& forward_table, const kernels::BackwardKernelTable& backward_table,
                 const std::vector<std::string>& taps = {});

    const ActivationShape& input_shape() const { return input_shape_; }    // FROM's, per image
    const ActivationShape& output_shape() const { return output_shape_; }  // TO's, per image
    const kernels::KernelTable& forward_table() const { return forward_table_; }
    const kernels::BackwardKernelTable& backward_table() const { return backward_table_; }
    const std::string& output_layer() const { return nodes_.back().layer->name; }  // TO

    // TO's output for n images of FROM's activations, [n][h][w][c], valid until the next call.
    // `input` must stay unchanged until backward() has run: the gradients read it again.
    const float* forward(const float* input, int n);
    const float* output() const { return nodes_.back().output.floats(); }  // the last forward()'s
    // dL/d(FROM's activations), [n][h][w][c], from dL/d(TO's output) of the last forward();
    // fills every TrainableConv's gradients. Valid until the next call.
    // tap_gradients, when given, holds dL/d(each tapped layer's output) in tap order ([n][h][w][c]).
    const float* backward(const float* grad_output, const std::vector<const float*>& tap_gradients = {});

    // Tapped layer t's output of the last forward(), [n][h][w][c], and its shape per image.
    const float* tap_output(std::size_t t) const { return nodes_[std::size_t(taps_[t])].output.floats(); }
    const ActivationShape& tap_shape(std::size_t t) const { return nodes_[std::size_t(taps_[t])].layer->shape; }

    std::vector<TrainableConv>& convolutions() { return convs_; }
    const std::vector<TrainableConv>& convolutions() const { return convs_; }

private:
    struct Node {
        const Layer* layer = nullptr;
        std::vector<int> inputs;  // node indices; -1 is FROM
        int conv = -1;            // index into convs_
        int consumers = 0;
        bool gradient_is_view = false;  // its only consumer is a concat: the gradient is a slice of that one's
        AlignedBuffer output;
        AlignedBuffer gradient;         // unless a view
        const float* grad_read = nullptr;
        int grad_stride = 0;
    };

    const ActivationShape& shape_of(int node) const;
    const float* output_of(int node) const;
    float* owned_gradient_of(int node);
    Conv2dWorkspaces thread_workspaces(std::size_t bytes_each);  // one per thread of the pool
    void forward_node(Node& node, int n);
    void backward_node(Node& node, int n);

    const kernels::KernelTable& forward_table_;
    const kernels::BackwardKernelTable& backward_table_;
    ActivationShape input_shape_, output_shape_;
    std::vector<Node> nodes_;
    std::vector<TrainableConv> convs_;
    std::vector<int> taps_;  // node indices
    const float* input_ = nullptr;
    int n_ = 0;
    AlignedBuffer input_gradient_;
    AlignedBuffer workspace_;
};

}  // namespace tinception
