#include "onednn_trunk.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>


namespace peer {
namespace {

using dnnl::memory;
using tinception::Layer;
using tinception::LayerOp;

memory::desc any_desc(int n, const tinception::ActivationShape& s) {
    return memory::desc({n, s.c, s.h, s.w}, memory::data_type::f32, memory::format_tag::any);
}

// Trailing padding that, with the layer's leading padding, gives its output size: TensorFlow's
// 'same' puts the extra row or column at the bottom/right; 'valid' has none (and may leave
// input rows unread, which oneDNN's floor division allows).
memory::dim trailing_pad(int in, int out, int kernel, int stride, int leading) {
    return std::max(0, (out - 1) * stride + kernel - in - leading);
}

}  // namespace

const char* algorithm_name(ConvAlgorithm algorithm) {
    return algorithm == ConvAlgorithm::winograd ? "winograd" : "direct";
}

OnednnTrunk::OnednnTrunk(const tinception::WeightFile& weights, const std::string& output_layer, int batch,
                         ConvAlgorithm algorithm, const dnnl::engine& engine)
    : weights_(weights), engine_(engine), batch_(batch), algorithm_(algorithm) {
    const tinception::LayerGraph& graph = weights.graph();
    const int output = graph.index_of(output_layer);
    if (output < 0) throw std::runtime_error(weights.path() + " has no layer '" + output_layer + "'");
    for (const int index : graph.needed_for(output)) {
        const Layer& layer = graph.layers()[std::size_t(index)];
        switch (layer.op) {
        case LayerOp::input: add_input(layer); outputs_[index] = input_; break;
        case LayerOp::conv2d: add_conv(layer, index); break;
        case LayerOp::maxpool2d:
        case LayerOp::avgpool2d: add_pool(layer, index); break;
        case LayerOp::concat: add_concat(layer, index); break;
        default:
            throw std::runtime_error("layer '" + layer.name + "' is a " + tinception::op_name(layer.op) +
                                     ", which the oneDNN trunk does not build");
        }
    }
    add_global_pool(output);
}

void OnednnTrunk::add_input(const Layer& layer) {
    const memory::desc nhwc({batch_, layer.shape.c, layer.shape.h, layer.shape.w}, memory::data_type::f32,
                            memory::format_tag::nhwc);
    input_ = memory(nhwc, engine_, DNNL_MEMORY_NONE);
}

void OnednnTrunk::add_conv(const Layer& layer, int index) {
    const Layer& in = weights_.graph().layers()[std::size_t(layer.inputs[0])];
    const memory::dims strides{layer.stride_h, layer.stride_w};
    const memory::dims pad_l{layer.pad_top, layer.pad_left};
    const memory::dims pad_r{trailing_pad(in.shape.h, layer.shape.h, layer.kernel_h, layer.stride_h, layer.pad_top),
                             trailing_pad(in.shape.w, layer.shape.w, layer.kernel_w, layer.stride_w, layer.pad_left)};
    const memory::dims weight_dims{layer.shape.c, in.shape.c, layer.kernel_h, layer.kernel_w};
    const memory::desc weights_any(weight_dims, memory::data_type::f32, memory::format_tag::any);
    const memory::desc bias_desc({layer.shape.c}, memory::data_type::f32, memory::format_tag::x);
    dnnl::primitive_attr attr;
    if (layer.relu) {
        dnnl::post_ops relu;
        relu.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        attr.set_post_ops(relu);
    }
    const auto describe = [&](dnnl::algorithm algorithm) {
        const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm,
                                                   any_desc(batch_, in.shape), weights_any, bias_desc,
                                                   any_desc(batch_, layer.shape), strides, pad_l, pad_r);
        return dnnl::convolution_forward::primitive_desc(desc, attr, engine_);
    };
    const bool winograd_shape = layer.kernel_h == 3 && layer.kernel_w == 3 && layer.stride_h == 1 && layer.stride_w == 1;
    winograd_candidates_ += winograd_shape ? 1 : 0;
    dnnl::convolution_forward::primitive_desc pd;
    bool have_pd = false;
    if (algorithm_ == ConvAlgorithm::winograd && winograd_shape) {
        try {
            pd = describe(dnnl::algorithm::convolution_winograd);
            have_pd = true;
        } catch (const dnnl::error& e) {
            if (e.status != dnnl_unimplemented) throw;
            winograd_refused_.push_back(layer.name);
        }
    }
    if (!have_pd) pd = describe(dnnl::algorithm::convolution_direct);
    count("conv", pd);

    // Weights: OIHW in the file, reordered once into the format the kernel chose.
    const memory::desc oihw(weight_dims, memory::data_type::f32, memory::format_tag::oihw);
    memory file_weights(oihw, engine_, const_cast<float*>(layer.weights->data));  // only read
    memory packed(pd.weights_desc(), engine_);
    dnnl::stream build(engine_);
    dnnl::reorder(file_weights, packed).execute(build, file_weights, packed);
    build.wait();
    memory bias(bias_desc, engine_);
    std::memcpy(bias.get_data_handle(), layer.bias->data, layer.bias->count * sizeof(float));

    memory src = output_as(layer.inputs[0], pd.src_desc());
    memory dst(pd.dst_desc(), engine_);
    steps_.push_back({dnnl::convolution_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, packed},
                                                      {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}}});
    outputs_[index] = dst;
}

void OnednnTrunk::add_pool(const Layer& layer, int index) {
    const Layer& in = weights_.graph().layers()[std::size_t(layer.inputs[0])];
    const memory src = outputs_.at(layer.inputs[0]);
    // Average pools leave the padded cells out of the mean, as tinception (and TensorFlow) do.
    const dnnl::algorithm algorithm = layer.op == LayerOp::maxpool2d ? dnnl::algorithm::pooling_max
                                                                     : dnnl::algorithm::pooling_avg_exclude_padding;
    const memory::dims pad_r{trailing_pad(in.shape.h, layer.shape.h, layer.kernel_h, layer.stride_h, layer.pad_top),
                             trailing_pad(in.shape.w, layer.shape.w, layer.kernel_w, layer.stride_w, layer.pad_left)};
    const dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, src.get_desc(),
                                           any_desc(batch_, layer.shape), {layer.stride_h, layer.stride_w},
                                           {layer.kernel_h, layer.kernel_w}, {layer.pad_top, layer.pad_left}, pad_r);
    const dnnl::pooling_forward::primitive_desc pd(desc, engine_);
    count("pool", pd);
    memory dst(pd.dst_desc(), engine_);
    steps_.push_back({dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}});
    outputs_[index] = dst;
}

void OnednnTrunk::add_concat(const Layer& layer, int index) {
    std::vector<memory::desc> descs;
    for (const int input : layer.inputs) descs.push_back(outputs_.at(input).get_desc());
    const dnnl::concat::primitive_desc pd(1, descs, engine_);  // axis 1: channels
    count("concat", pd);
    memory dst(pd.dst_desc(), engine_);
    Step step{dnnl::concat(pd), {{DNNL_ARG_DST, dst}}};
    for (std::size_t i = 0; i < layer.inputs.size(); ++i)
        step.args[DNNL_ARG_MULTIPLE_SRC + int(i)] = outputs_.at(layer.inputs[i]);
    steps_.push_back(std::move(step));
    outputs_[index] = dst;
}

// The features: the output layer averaged over its whole height and width, into the
// caller's [batch][channels] (nchw with 1x1 pixels).
void OnednnTrunk::add_global_pool(int index) {
    const Layer& layer = weights_.graph().layers()[std::size_t(index)];
    feature_size_ = layer.shape.c;
    const memory src = outputs_.at(index);
    const dnnl::pooling_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_avg_exclude_padding, src.get_desc(),
        any_desc(batch_, {1, 1, layer.shape.c}), {1, 1}, {layer.shape.h, layer.shape.w}, {0, 0}, {0, 0});
    const dnnl::pooling_forward::primitive_desc pd(desc, engine_);
    count("pool", pd);
    memory pooled(pd.dst_desc(), engine_);
    steps_.push_back({dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, pooled}}});
    const memory::desc nchw({batch_, layer.shape.c, 1, 1}, memory::data_type::f32, memory::format_tag::nchw);
    features_ = memory(nchw, engine_, DNNL_MEMORY_NONE);
    const dnnl::reorder::primitive_desc out_pd(pooled, features_);
    count("reorder", out_pd);
    steps_.push_back({dnnl::reorder(out_pd), {{DNNL_ARG_FROM, pooled}, {DNNL_ARG_TO, features_}}});
}

memory OnednnTrunk::output_as(int index, const memory::desc& want) {
    const memory have = outputs_.at(index);
    if (have.get_desc() == want) return have;
    for (const auto& [desc, copy] : copies_[index])
        if (desc == want) return copy;
    memory copy(want, engine_);
    const dnnl::reorder::primitive_desc pd(have, copy);
    count("reorder", pd);
    steps_.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, have}, {DNNL_ARG_TO, copy}}});
    copies_[index].emplace_back(want, copy);
    return copy;
}

void OnednnTrunk::count(const char* kind, const dnnl::primitive_desc_base& pd) {
    ++implementations_[std::string(kind) + " " + pd.impl_info_str()];
}

void OnednnTrunk::run(dnnl::stream& stream, const float* input, float* features) {
    input_.set_data_handle(const_cast<float*>(input));  // only read
    features_.set_data_handle(features);
    for (Step& step : steps_) step.primitive.execute(stream, step.args);
    stream.wait();
}

}  // namespace peer
