// Our layer list mapped onto ONNX operators: Transpose from the NHWC image to ONNX's NCHW,
// Conv (batch normalisation already folded into weights and bias) and Relu, MaxPool,
// AveragePool without the padded cells, Concat on channels, then GlobalAveragePool,
// Flatten (and Concat, for a layer set), Gemm and Softmax for the retrained head, with the
// model's feature standardisation folded into the Gemm's weights and bias. A model with
// --tta flip runs each image and its mirror as one batch of 2N (the mirror a MatMul with the
// exchange matrix, exact on finite values) and averages the two halves' probabilities.
#include "export/onnx_export.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "build_info.hpp"
#include "error.hpp"
#include "file_io.hpp"
#include "finetune/tuned_layers.hpp"
#include "model/feature_extractor.hpp"

namespace tinception {
namespace {

// Builds the ONNX graph layer by layer, refusing a name given twice.
class GraphBuilder {
public:
    explicit GraphBuilder(OnnxModel& model) : model_(model) {}

    void add_node(OnnxNode node) {
        for (const std::string& out : node.outputs) define(out);
        model_.nodes.push_back(std::move(node));
    }
    // The initialiser named `name` (once, however many nodes read it).
    void add_initializer(const std::string& name, std::vector<std::int64_t> dims, const float* data) {
        if (initializers_.count(name)) return;
        define(name);
        initializers_.insert(name);
        model_.initializers.push_back({name, std::move(dims), data});
    }
    void define(const std::string& name) {
        if (!defined_.insert(name).second)
            throw Error("the exported graph would name '" + name + "' twice", ErrorKind::internal);
    }

private:
    OnnxModel& model_;
    std::set<std::string> defined_, initializers_;
};

// kernel_shape, strides and pads [top, left, bottom, right] of a checked conv or pool layer.
// ONNX's output size is floor((in + before + after - kernel) / stride) + 1; 'valid' can
// leave cells unread at the end, which is no padding at all.
std::vector<OnnxAttribute> window_attributes(const Layer& layer, const ActivationShape& in) {
    const int pad_bottom = std::max(0, (layer.shape.h - 1) * layer.stride_h + layer.kernel_h - in.h - layer.pad_top);
    const int pad_right = std::max(0, (layer.shape.w - 1) * layer.stride_w + layer.kernel_w - in.w - layer.pad_left);
    return {ints_attribute("kernel_shape", {layer.kernel_h, layer.kernel_w}),
            ints_attribute("strides", {layer.stride_h, layer.stride_w}),
            ints_attribute("pads", {layer.pad_top, layer.pad_left, pad_bottom, pad_right})};
}

std::string number_text(double v) {
    char text[40];
    std::snprintf(text, sizeof text, "%.9g", v);
    return text;
}

}  // namespace

TrunkSource trunk_from_weights(const WeightFile& weights) {
    return {weights.path(), &weights.graph(), weights.metadata()};
}

OnnxModel build_onnx_model(const ClassifierModel& model, const TrunkSource& trunk, const OnnxExportOptions& options) {
    OnnxModel onnx;
    onnx.opset = options.opset;
    ir_version_for_opset(options.opset);  // refuses an opset we do not write
    if (options.batch < 0) throw Error("the batch size must be a positive number or dynamic");
    onnx.producer_version = build_info::version;
    onnx.graph_name = "tinception_" + model.feature_layer;
    GraphBuilder graph(onnx);

    // guess mirrors the decoded image before resizing it, the graph its resized input: the
    // same picture when corner pixels map onto corner pixels (align_corners), else not.
    const bool flip = model.augmentation == TestTimeAugmentation::flip;
    if (flip && !model.preprocessing.align_corners)
        throw Error("the model averages each image's scores with its mirror's (--tta flip), and with its resizing "
                    "(align_corners=false) mirroring the resized input is not mirroring the image; train with --tta "
                    "none to export");
    // A fine-tuned model's convolutions go out in place of the weight file's.
    check_tuned_layers(model.tuned, *trunk.graph, model.feature_layer, "the model", trunk.description);
    std::map<std::string, const TrainableConv*> tuned;
    for (const TrainableConv& conv : model.tuned.convolutions) tuned[conv.name] = &conv;
    const std::vector<Layer>& layers = trunk.graph->layers();
    // The deepest layer of the set ends the trunk; the others must lie on the way to it.
    const std::vector<std::string> pooled = split_layer_set(model.feature_layer);
    int feature_layer = -1;
    for (const std::string& name : pooled) {
        const int index = trunk.graph->index_of(name);
        if (index < 0) throw Error("no layer named '" + name + "' in " + trunk.description);
        feature_layer = std::max(feature_layer, index);
    }
    const std::vector<int> needed = trunk.graph->needed_for(feature_layer);
    int features = 0;
    for (const std::string& name : pooled) {
        const int index = trunk.graph->index_of(name);
        if (std::find(needed.begin(), needed.end(), index) == needed.end())
            throw Error("layer '" + name + "' is not computed on the way to '" + layers[std::size_t(feature_layer)].name +
                        "' in " + trunk.description);
        features += layers[std::size_t(index)].shape.c;
    }
    // The checked graph has one input layer and every other layer reads earlier ones.
    for (const int index : needed) {
        const Layer& layer = layers[std::size_t(index)];
        const std::string& first_input = layer.inputs.empty() ? layer.name : layers[std::size_t(layer.inputs[0])].name;
        const ActivationShape in = layer.inputs.empty() ? layer.shape : layers[std::size_t(layer.inputs[0])].shape;
        switch (layer.op) {
        case LayerOp::input: {
            const int size = model.preprocessing.size;
            if (layer.shape.h != size || layer.shape.w != size || layer.shape.c != 3)
                throw Error(trunk.description + ": input layer is " + std::to_string(layer.shape.h) + "x" +
                            std::to_string(layer.shape.w) + "x" + std::to_string(layer.shape.c) +
                            ", the model expects " + std::to_string(size) + "x" + std::to_string(size) + "x3 RGB");
            graph.define("image");
            if (!flip) {
                graph.add_node({"Transpose", layer.name, {"image"}, {layer.name}, {ints_attribute("perm", {0, 3, 1, 2})}});
                break;
            }
            // [N, 3, H, W] x exchange matrix [W, W]: every row reversed; then image and mirror
            // as one batch [2N, 3, H, W], the images first.
            std::vector<float> exchange(std::size_t(size) * std::size_t(size), 0.0f);
            for (int x = 0; x < size; ++x) exchange[std::size_t(x) * std::size_t(size) + std::size_t(size - 1 - x)] = 1.0f;
            onnx.owned.push_back(std::move(exchange));
            graph.add_initializer("mirror/exchange", {size, size}, onnx.owned.back().data());
            graph.add_node({"Transpose", layer.name + "/image", {"image"}, {layer.name + "/image"},
                            {ints_attribute("perm", {0, 3, 1, 2})}});
            graph.add_node({"MatMul", layer.name + "/mirror", {layer.name + "/image", "mirror/exchange"},
                            {layer.name + "/mirror"}, {}});
            graph.add_node({"Concat", layer.name, {layer.name + "/image", layer.name + "/mirror"}, {layer.name},
                            {int_attribute("axis", 0)}});
            break;
        }
        case LayerOp::conv2d: {
            // ONNX's Conv weights are OIHW like ours: the values go out unchanged.
            const TensorRef& w = *layer.weights;
            const TensorRef& b = *layer.bias;
            const auto own = tuned.find(layer.name);  // check_tuned_layers checked its sizes
            graph.add_initializer(w.name, w.dims, own == tuned.end() ? w.data : own->second->weights.data());
            graph.add_initializer(b.name, b.dims, own == tuned.end() ? b.data : own->second->bias.data());
            const std::string conv_out = layer.relu ? layer.name + "/conv" : layer.name;
            graph.add_node({"Conv", layer.name, {first_input, w.name, b.name}, {conv_out}, window_attributes(layer, in)});
            if (layer.relu) graph.add_node({"Relu", layer.name + "/relu", {conv_out}, {layer.name}, {}});
            break;
        }
        case LayerOp::maxpool2d:
            graph.add_node({"MaxPool", layer.name, {first_input}, {layer.name}, window_attributes(layer, in)});
            break;
        case LayerOp::avgpool2d: {
            // Our average pooling divides by the cells inside the input only.
            std::vector<OnnxAttribute> attributes = window_attributes(layer, in);
            attributes.push_back(int_attribute("count_include_pad", 0));
            graph.add_node({"AveragePool", layer.name, {first_input}, {layer.name}, attributes});
            break;
        }
        case LayerOp::concat: {
            std::vector<std::string> parts;
            for (const int part : layer.inputs) parts.push_back(layers[std::size_t(part)].name);
            graph.add_node({"Concat", layer.name, parts, {layer.name}, {int_attribute("axis", 1)}});
            break;
        }
        case LayerOp::flatten:
        case LayerOp::dense:
            throw Error("layer '" + layer.name + "' (" + op_name(layer.op) + ") lies between the input and feature layer '" +
                        model.feature_layer + "'; ONNX export covers input, conv2d, pooling and concat layers");
        }
    }
    if (features != model.feature_size)
        throw Error("the model expects " + std::to_string(model.feature_size) + " features from layer '" +
                    model.feature_layer + "', the network gives " + std::to_string(features));

    // The head: mean over the spatial axes, then softmax(W x + b) as ClassifierModel::predict.
    const std::int64_t classes = std::int64_t(model.labels.size());
    if (pooled.size() == 1) {
        graph.add_node({"GlobalAveragePool", "bottleneck/pool", {pooled[0]}, {"bottleneck/pooled"}, {}});
        graph.add_node({"Flatten", "bottleneck", {"bottleneck/pooled"}, {"bottleneck"}, {int_attribute("axis", 1)}});
    } else {
        std::vector<std::string> parts;
        for (const std::string& name : pooled) {
            graph.add_node({"GlobalAveragePool", "bottleneck/pool/" + name, {name}, {"bottleneck/pooled/" + name}, {}});
            graph.add_node({"Flatten", "bottleneck/" + name, {"bottleneck/pooled/" + name}, {"bottleneck/" + name},
                            {int_attribute("axis", 1)}});
            parts.push_back("bottleneck/" + name);
        }
        graph.add_node({"Concat", "bottleneck", parts, {"bottleneck"}, {int_attribute("axis", 1)}});
    }
    const float* head_weights = model.head.weights.data();
    const float* head_bias = model.head.bias.data();
    if (!model.standardization.empty()) {
        // W (x - mean) / sd + b = (W / sd) x + (b - W (mean / sd)), in double.
        const std::size_t f = std::size_t(model.feature_size);
        std::vector<float> w(model.head.weights.size()), b(model.head.bias.size());
        for (std::size_t c = 0; c < b.size(); ++c) {
            double shift = 0;
            for (std::size_t k = 0; k < f; ++k) {
                const double scaled = double(model.head.weights[c * f + k]) / double(model.standardization.sd[k]);
                w[c * f + k] = float(scaled);
                shift += scaled * double(model.standardization.mean[k]);
            }
            b[c] = float(double(model.head.bias[c]) - shift);
        }
        onnx.owned.push_back(std::move(w));
        head_weights = onnx.owned.back().data();
        onnx.owned.push_back(std::move(b));
        head_bias = onnx.owned.back().data();
    }
    graph.add_initializer("retrained/weights", {classes, model.feature_size}, head_weights);
    graph.add_initializer("retrained/bias", {classes}, head_bias);
    graph.add_node({"Gemm", "retrained", {"bottleneck", "retrained/weights", "retrained/bias"}, {"logits"},
                    {int_attribute("transB", 1)}});
    if (!flip) {
        graph.add_node({"Softmax", "scores", {"logits"}, {"scores"}, {int_attribute("axis", 1)}});
    } else {
        // 0.5 * (p(image) + p(mirror)), as ClassifierModel::predict; Split without sizes cuts
        // the 2N rows into two equal halves (opset 18 on wants their number said).
        graph.add_node({"Softmax", "scores/both", {"logits"}, {"scores/both"}, {int_attribute("axis", 1)}});
        std::vector<OnnxAttribute> halves = {int_attribute("axis", 0)};
        if (options.opset >= 18) halves.push_back(int_attribute("num_outputs", 2));
        graph.add_node({"Split", "scores/split", {"scores/both"}, {"scores/image", "scores/mirror"}, halves});
        graph.add_node({"Add", "scores/sum", {"scores/image", "scores/mirror"}, {"scores/sum"}, {}});
        onnx.owned.push_back({0.5f});
        graph.add_initializer("scores/half", {1}, onnx.owned.back().data());
        graph.add_node({"Mul", "scores", {"scores/sum", "scores/half"}, {"scores"}, {}});
    }

    const std::int64_t n = options.batch > 0 ? options.batch : -1;
    const Preprocessing& p = model.preprocessing;
    const std::string size = std::to_string(p.size);
    std::string labels;
    for (const std::string& label : model.labels) {
        if (label.find('\n') != std::string::npos) throw Error("label '" + label + "' contains a line break");
        labels += (labels.empty() ? "" : "\n") + label;
    }
    const std::string preprocessing =
        "decode the image to RGB, resize it to " + size + "x" + size + " by bilinear interpolation (TensorFlow's " +
        "resize_bilinear, align_corners=" + (p.align_corners ? "true" : "false") + "), then value = pixel * " +
        number_text(p.scale) + " + " + number_text(p.offset) + " for pixels 0..255";
    onnx.inputs.push_back({"image", {n, p.size, p.size, 3},
                           "float32 NHWC [N, " + size + ", " + size + ", 3], RGB: " + preprocessing});
    onnx.outputs.push_back({"scores", {n, classes}, "softmax probability per label, in the order of metadata 'labels'"});
    onnx.doc = "Image classifier trained with tinception: Inception v3 up to layer '" + model.feature_layer +
               "', global average pool, a retrained softmax layer" +
               (flip ? ", its probabilities averaged with those of the image mirrored left-right" : "") +
               ".\nInput 'image': float32 [N, " + size + ", " +
               size + ", 3], NHWC. Preprocessing: " + preprocessing + ".\nOutput 'scores': float32 [N, " +
               std::to_string(classes) + "], softmax probabilities of the labels, in this order:\n" + labels + "\n";
    onnx.metadata = {{"labels", labels},
                     {"input_layout", "NHWC"},
                     {"input_size", size},
                     {"resize", "bilinear"},
                     {"align_corners", p.align_corners ? "1" : "0"},
                     {"input_scale", number_text(p.scale)},
                     {"input_offset", number_text(p.offset)},
                     {"preprocessing", preprocessing},
                     {"feature_layer", model.feature_layer},
                     {"test_time_augmentation", flip ? "flip" : "none"}};
    const auto source = trunk.metadata.find("source");
    if (source != trunk.metadata.end()) onnx.metadata.push_back({"weights_source", source->second});
    return onnx;
}

OnnxExportSummary write_onnx_model(const OnnxModel& onnx_model, const std::string& path, bool replace_existing) {
    const ProtoMessage encoded = encode_onnx_model(onnx_model);
    AtomicFileWriter file(path);
    encoded.write([&file](const void* data, std::size_t size) { file.write(data, size); });
    file.commit(replace_existing);
    return {onnx_model.nodes.size(), onnx_model.initializers.size(), file.bytes_written()};
}

}  // namespace tinception
