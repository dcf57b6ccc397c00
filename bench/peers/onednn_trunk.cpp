#include "onednn_trunk.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "model/feature_extractor.hpp"

namespace peer {
namespace {

using dnnl::memory;
using tinception::Layer;
using tinception::LayerOp;

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

const char* precision_name(Precision precision) {
    switch (precision) {
    case Precision::int8: return "int8";
    case Precision::bf16: return "bf16";
    default: return "fp32";
    }
}

OnednnTrunk::OnednnTrunk(const tinception::WeightFile& weights, const std::string& output_layer, int batch,
                         ConvAlgorithm algorithm, const dnnl::engine& engine, Precision precision,
                         const LayerMaxima& maxima)
    : weights_(weights), engine_(engine), batch_(batch),
      algorithm_(precision == Precision::fp32 ? algorithm : ConvAlgorithm::direct), precision_(precision),
      maxima_(maxima) {
    const tinception::LayerGraph& graph = weights.graph();
    const int output = graph.index_of(output_layer);
    if (output < 0) throw std::runtime_error(weights.path() + " has no layer '" + output_layer + "'");
    const std::vector<int> needed = graph.needed_for(output);
    if (precision_ == Precision::int8) join_scales(needed);
    for (const int index : needed) {
        const Layer& layer = graph.layers()[std::size_t(index)];
        switch (layer.op) {
        case LayerOp::input: add_input(layer); outputs_[index] = input_; input_index_ = index; break;
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
    const memory::desc bias_desc({layer.shape.c}, memory::data_type::f32, memory::format_tag::x);
    // int8's first convolution reads the image quantized to u8 pixels, as tinception's int8 network does.
    const bool float_conv = precision_ == Precision::fp32;
    const bool int8_conv = precision_ == Precision::int8;
    memory::data_type weight_type = memory::data_type::f32;
    if (int8_conv) weight_type = memory::data_type::s8;
    if (precision_ == Precision::bf16) weight_type = memory::data_type::bf16;
    const memory::desc weights_any(weight_dims, weight_type, memory::format_tag::any);
    const memory::desc src_any = float_conv ? float_desc(batch_, in.shape) : any_desc(batch_, in.shape);
    const memory::desc dst_any = float_conv ? float_desc(batch_, layer.shape) : any_desc(batch_, layer.shape);

    // int8: weights w = q * weight_scale[oc] with q in -127..127; the u8 output is
    // (sum of u8 x s8 + bias / (in_scale * weight_scale[oc])) * in_scale * weight_scale[oc] / out_scale,
    // oneDNN 2.x adding the bias before its output scales.
    const std::size_t out_c = std::size_t(layer.shape.c);
    const std::size_t per_oc = layer.weights->count / out_c;
    std::vector<float> weight_scale(out_c, 1.0f);
    std::vector<float> bias_values(layer.bias->data, layer.bias->data + out_c);
    dnnl::primitive_attr attr;
    if (int8_conv) {
        const float in_scale = scale_.at(layer.inputs[0]), out_scale = scale_.at(index);
        std::vector<float> output_scales(out_c);
        for (std::size_t oc = 0; oc < out_c; ++oc) {
            float largest = 0.0f;
            for (std::size_t i = 0; i < per_oc; ++i)
                largest = std::max(largest, std::fabs(layer.weights->data[oc * per_oc + i]));
            if (largest > 0.0f) weight_scale[oc] = largest / 127.0f;
            bias_values[oc] /= in_scale * weight_scale[oc];
            output_scales[oc] = in_scale * weight_scale[oc] / out_scale;
        }
        attr.set_output_scales(1 << 1, output_scales);  // per output channel (dimension 1 of dst)
    }
    if (layer.relu) {
        dnnl::post_ops relu;
        relu.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        attr.set_post_ops(relu);
    }
    const auto describe = [&](dnnl::algorithm algorithm) {
        const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, src_any,
                                                   weights_any, bias_desc, dst_any, strides, pad_l, pad_r);
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

    // Weights: OIHW float in the file, reordered once into the type and format the kernel chose
    // (int8: divided by their channel's scale, rounded; oneDNN adds any compensation it needs).
    const memory::desc oihw(weight_dims, memory::data_type::f32, memory::format_tag::oihw);
    memory file_weights(oihw, engine_, const_cast<float*>(layer.weights->data));  // only read
    memory packed(pd.weights_desc(), engine_);
    dnnl::primitive_attr weight_attr;
    if (int8_conv) {
        std::vector<float> inverse(out_c);
        for (std::size_t oc = 0; oc < out_c; ++oc) inverse[oc] = 1.0f / weight_scale[oc];
        weight_attr.set_output_scales(1 << 0, inverse);  // per output channel (dimension 0 of OIHW)
    }
    dnnl::stream build(engine_);
    dnnl::reorder(dnnl::reorder::primitive_desc(file_weights, packed, weight_attr)).execute(build, file_weights, packed);
    build.wait();
    memory bias(bias_desc, engine_);
    std::memcpy(bias.get_data_handle(), bias_values.data(), out_c * sizeof(float));

    memory src = int8_conv && in.op == LayerOp::input ? quantized_input(pd.src_desc())
                                                      : output_as(layer.inputs[0], pd.src_desc());
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
    // In the trunk's own type (in int8 the mean is rounded to u8): oneDNN 2.6 refuses an f32
    // destination for u8 or bf16 pooling here. The reorder below makes it float, undoing the int8 scale.
    const dnnl::pooling_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_avg_exclude_padding, src.get_desc(),
        any_desc(batch_, {1, 1, layer.shape.c}), {1, 1}, {layer.shape.h, layer.shape.w}, {0, 0}, {0, 0});
    const dnnl::pooling_forward::primitive_desc pd(desc, engine_);
    count("pool", pd);
    memory pooled(pd.dst_desc(), engine_);
    steps_.push_back({dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, pooled}}});
    const memory::desc nchw({batch_, layer.shape.c, 1, 1}, memory::data_type::f32, memory::format_tag::nchw);
    features_ = memory(nchw, engine_, DNNL_MEMORY_NONE);
    dnnl::primitive_attr dequantize;
    if (precision_ == Precision::int8) dequantize.set_output_scales(0, {scale_.at(index)});
    const dnnl::reorder::primitive_desc out_pd(pooled, features_, dequantize);
    count("reorder", out_pd);
    steps_.push_back({dnnl::reorder(out_pd), {{DNNL_ARG_FROM, pooled}, {DNNL_ARG_TO, features_}}});
}

memory OnednnTrunk::quantized_input(const memory::desc& want) {
    memory u8(want, engine_);
    dnnl::primitive_attr quantize;
    quantize.set_output_scales(0, {1.0f / scale_.at(input_index_)});
    const dnnl::reorder::primitive_desc pd(input_, u8, quantize);
    count("reorder", pd);
    steps_.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, input_}, {DNNL_ARG_TO, u8}}});
    return u8;
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

// Inception's pools and concats pass values through (a max, a mean, a copy), so a pool's output
// and input, and a concat's output and inputs, must share one scale: union-find over those
// joins, each group scaled to the largest maximum in it.
void OnednnTrunk::join_scales(const std::vector<int>& layers) {
    const std::vector<Layer>& all = weights_.graph().layers();
    std::unordered_map<int, int> parent;
    const auto root = [&](int i) {
        while (parent.at(i) != i) i = parent[i] = parent.at(parent.at(i));
        return i;
    };
    for (const int index : layers) parent[index] = index;
    for (const int index : layers) {
        const Layer& layer = all[std::size_t(index)];
        if (layer.op != LayerOp::maxpool2d && layer.op != LayerOp::avgpool2d && layer.op != LayerOp::concat) continue;
        for (const int input : layer.inputs) {
            if (all[std::size_t(input)].op == LayerOp::input)
                throw std::runtime_error("layer '" + layer.name + "' reads the float input, which the int8 trunk does not build");
            parent[root(input)] = root(index);
        }
    }
    std::unordered_map<int, float> group_max;
    for (const int index : layers) {
        if (all[std::size_t(index)].op == LayerOp::input) continue;
        const auto found = maxima_.find(index);
        if (found == maxima_.end())
            throw std::runtime_error("no calibration maximum for layer '" + all[std::size_t(index)].name + "'");
        float& m = group_max[root(index)];
        m = std::max(m, found->second);
    }
    for (const int index : layers)
        if (all[std::size_t(index)].op != LayerOp::input)
            scale_[index] = std::max(group_max.at(root(index)), 1e-6f) / 255.0f;
    // The image: one u8 step is one pixel level (value = pixel * input_scale), pixel 0 the value 0.
    const tinception::Preprocessing p = tinception::preprocessing_of(weights_);
    if (p.offset != 0.0f) throw std::runtime_error("the int8 trunk needs input_offset 0 (pixel 0 the value 0)");
    for (const int index : layers)
        if (all[std::size_t(index)].op == LayerOp::input) scale_[index] = p.scale;
}

memory::data_type OnednnTrunk::activation_type() const {
    switch (precision_) {
    case Precision::int8: return memory::data_type::u8;
    case Precision::bf16: return memory::data_type::bf16;
    default: return memory::data_type::f32;
    }
}

memory::desc OnednnTrunk::any_desc(int n, const tinception::ActivationShape& s) const {
    return memory::desc({n, s.c, s.h, s.w}, activation_type(), memory::format_tag::any);
}

memory::desc OnednnTrunk::float_desc(int n, const tinception::ActivationShape& s) const {
    return memory::desc({n, s.c, s.h, s.w}, memory::data_type::f32, memory::format_tag::any);
}

LayerMaxima OnednnTrunk::layer_maxima() const {
    if (precision_ != Precision::fp32) throw std::runtime_error("layer maxima come from an fp32 trunk");
    LayerMaxima maxima;
    for (const auto& [index, output] : outputs_) {
        if (index == input_index_) continue;
        const float* values = static_cast<const float*>(output.get_data_handle());
        const std::size_t n = output.get_desc().get_size() / sizeof(float);  // blocked layouts' padding is zero
        maxima[index] = n ? *std::max_element(values, values + n) : 0.0f;
    }
    return maxima;
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
