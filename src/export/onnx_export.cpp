// Our layer list mapped onto ONNX operators: Transpose from the NHWC image to ONNX's NCHW,
// Conv (batch normalisation already folded into weights and bias) and Relu, MaxPool,
// AveragePool without the padded cells, Concat on channels, then GlobalAveragePool,
// Flatten, Gemm and Softmax for the retrained head.
#include "export/onnx_export.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "build_info.hpp"
#include "conv_geometry.hpp"
#include "error.hpp"
#include "file_io.hpp"

namespace tinception {
namespace {

struct Shape3 {
    int h = 0, w = 0, c = 0;
};

std::int64_t int_attr(const LayerSpec& spec, const char* key) {
    const auto it = spec.ints.find(key);
    if (it == spec.ints.end())
        throw Error("layer '" + spec.name + "' (" + spec.op + ") lacks attribute '" + key + "'");
    return it->second;
}

int window_attr(const LayerSpec& spec, const char* key) {
    const std::int64_t v = int_attr(spec, key);
    if (v <= 0 || v > 4096)
        throw Error("layer '" + spec.name + "' has " + key + " = " + std::to_string(v) + ", expected 1..4096");
    return int(v);
}

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

std::string describe_dims(const std::vector<std::int64_t>& dims) {
    std::string s;
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
    return s.empty() ? "scalar" : s;
}

const TensorRef& tensor_of_shape(const TrunkSource& trunk, const std::string& name,
                                 const std::vector<std::int64_t>& expected) {
    const TensorRef& t = trunk.tensor(name);
    if (t.dims != expected)
        throw Error("tensor '" + name + "' has shape " + describe_dims(t.dims) + ", expected " + describe_dims(expected));
    return t;
}

// kernel_shape, strides and pads [top, left, bottom, right] from our padding rule.
std::vector<OnnxAttribute> window_attributes(const LayerSpec& spec, const Shape3& in, int kernel_h, int kernel_w,
                                             Shape3& out) {
    const int stride_h = window_attr(spec, "stride_h"), stride_w = window_attr(spec, "stride_w");
    const auto it = spec.strings.find("padding");
    const std::string padding = it == spec.strings.end() ? "" : it->second;
    if (padding != "same" && padding != "valid")
        throw Error("layer '" + spec.name + "' has padding '" + padding + "', expected same or valid");
    const Padding rule = padding == "same" ? Padding::same : Padding::valid;
    const Padding1d y = padding_for(rule, in.h, kernel_h, stride_h);
    const Padding1d x = padding_for(rule, in.w, kernel_w, stride_w);
    // ONNX computes floor((in + before + after - kernel) / stride) + 1; 'valid' can leave
    // cells unread at the end, which is no padding at all.
    const auto after = [](const Padding1d& g, int in_size, int kernel, int stride) {
        return std::max(0, (g.out - 1) * stride + kernel - in_size - g.before);
    };
    out = {y.out, x.out, in.c};
    return {ints_attribute("kernel_shape", {kernel_h, kernel_w}), ints_attribute("strides", {stride_h, stride_w}),
            ints_attribute("pads", {y.before, x.before, after(y, in.h, kernel_h, stride_h),
                                    after(x, in.w, kernel_w, stride_w)})};
}

// The layers `output` needs, in the source's (topological) order.
std::vector<const LayerSpec*> layers_needed(const TrunkSource& trunk, const std::string& output) {
    const std::vector<LayerSpec>& layers = *trunk.layers;
    std::map<std::string, std::size_t> index_of;
    for (std::size_t i = 0; i < layers.size(); ++i) index_of[layers[i].name] = i;
    const auto found = index_of.find(output);
    if (found == index_of.end()) throw Error("no layer named '" + output + "' in " + trunk.description);
    std::set<std::size_t> needed;
    std::vector<std::size_t> todo{found->second};
    while (!todo.empty()) {
        const std::size_t i = todo.back();
        todo.pop_back();
        if (!needed.insert(i).second) continue;
        for (const std::string& in : layers[i].inputs) {
            const auto it = index_of.find(in);
            if (it == index_of.end() || it->second >= i)
                throw Error("layer '" + layers[i].name + "' reads '" + in + "', which is not an earlier layer");
            todo.push_back(it->second);
        }
    }
    std::vector<const LayerSpec*> out;
    for (const std::size_t i : needed) out.push_back(&layers[i]);
    return out;
}

std::string number_text(double v) {
    char text[40];
    std::snprintf(text, sizeof text, "%.9g", v);
    return text;
}

}  // namespace

TrunkSource trunk_from_weights(const WeightFile& weights) {
    TrunkSource t;
    t.description = weights.path();
    t.layers = &weights.layers();
    t.tensor = [&weights](const std::string& name) -> const TensorRef& { return weights.tensor(name); };
    t.metadata = weights.metadata();
    return t;
}

OnnxModel build_onnx_model(const ClassifierModel& model, const TrunkSource& trunk, const OnnxExportOptions& options) {
    OnnxModel onnx;
    onnx.opset = options.opset;
    ir_version_for_opset(options.opset);  // refuses an opset we do not write
    if (options.batch < 0) throw Error("the batch size must be a positive number or dynamic");
    onnx.producer_version = build_info::version;
    onnx.graph_name = "tinception_" + model.feature_layer;
    GraphBuilder graph(onnx);

    std::map<std::string, Shape3> shape_of;
    std::string input_layer;
    for (const LayerSpec* layer : layers_needed(trunk, model.feature_layer)) {
        const LayerSpec& spec = *layer;
        Shape3 in;
        if (!spec.inputs.empty()) in = shape_of.at(spec.inputs[0]);
        const bool one_input = spec.op != "input" && spec.op != "concat";
        if ((spec.op == "input") != spec.inputs.empty() || (one_input && spec.inputs.size() != 1))
            throw Error("layer '" + spec.name + "' has " + std::to_string(spec.inputs.size()) +
                        " inputs, which its op '" + spec.op + "' does not take");
        Shape3 out;
        if (spec.op == "input") {
            if (!input_layer.empty()) throw Error("layer '" + spec.name + "': a second input layer is not supported");
            input_layer = spec.name;
            out = {window_attr(spec, "height"), window_attr(spec, "width"), window_attr(spec, "channels")};
            const int size = model.preprocessing.size;
            if (out.h != size || out.w != size || out.c != 3)
                throw Error(trunk.description + ": input layer is " + std::to_string(out.h) + "x" +
                            std::to_string(out.w) + "x" + std::to_string(out.c) + ", the model expects " +
                            std::to_string(size) + "x" + std::to_string(size) + "x3 RGB");
            graph.define("image");
            graph.add_node({"Transpose", spec.name, {"image"}, {spec.name}, {ints_attribute("perm", {0, 3, 1, 2})}});
        } else if (spec.op == "conv2d") {
            if (spec.tensors.size() != 2) throw Error("layer '" + spec.name + "' should name 2 tensors (weights, bias)");
            const int kernel_h = window_attr(spec, "kernel_h"), kernel_w = window_attr(spec, "kernel_w");
            const TensorRef& w = trunk.tensor(spec.tensors[0]);
            if (w.dims.size() != 4 || w.dims[0] <= 0 || w.dims[0] > (1 << 20))
                throw Error("tensor '" + w.name + "' has shape " + describe_dims(w.dims) +
                            ", expected out_c x in_c x kernel_h x kernel_w");
            tensor_of_shape(trunk, w.name, {w.dims[0], in.c, kernel_h, kernel_w});
            const TensorRef& b = tensor_of_shape(trunk, spec.tensors[1], {w.dims[0]});
            // ONNX's Conv weights are OIHW like ours: the values go out unchanged.
            graph.add_initializer(w.name, w.dims, w.data);
            graph.add_initializer(b.name, b.dims, b.data);
            const bool relu = int_attr(spec, "relu") != 0;
            const std::string conv_out = relu ? spec.name + "/conv" : spec.name;
            graph.add_node({"Conv", spec.name, {spec.inputs[0], w.name, b.name}, {conv_out},
                            window_attributes(spec, in, kernel_h, kernel_w, out)});
            out.c = int(w.dims[0]);
            if (relu) graph.add_node({"Relu", spec.name + "/relu", {conv_out}, {spec.name}, {}});
        } else if (spec.op == "maxpool2d" || spec.op == "avgpool2d") {
            const bool max = spec.op == "maxpool2d";
            std::vector<OnnxAttribute> attributes =
                window_attributes(spec, in, window_attr(spec, "kernel_h"), window_attr(spec, "kernel_w"), out);
            // Our average pooling divides by the cells inside the input only.
            if (!max) attributes.push_back(int_attribute("count_include_pad", 0));
            graph.add_node({max ? "MaxPool" : "AveragePool", spec.name, {spec.inputs[0]}, {spec.name}, attributes});
        } else if (spec.op == "concat") {
            out = in;
            out.c = 0;
            for (const std::string& part : spec.inputs) {
                const Shape3& s = shape_of.at(part);
                if (s.h != in.h || s.w != in.w)
                    throw Error("layer '" + spec.name + "' concatenates inputs of different sizes");
                out.c += s.c;
            }
            graph.add_node({"Concat", spec.name, spec.inputs, {spec.name}, {int_attribute("axis", 1)}});
        } else {
            throw Error("layer '" + spec.name + "' (" + spec.op + ") lies between the input and feature layer '" +
                        model.feature_layer + "'; ONNX export covers input, conv2d, pooling and concat layers");
        }
        shape_of[spec.name] = out;
    }
    if (input_layer.empty())
        throw Error("layer '" + model.feature_layer + "' in " + trunk.description + " does not start from an input layer");
    const Shape3 features = shape_of.at(model.feature_layer);
    if (features.c != model.feature_size)
        throw Error("the model expects " + std::to_string(model.feature_size) + " features from layer '" +
                    model.feature_layer + "', the network gives " + std::to_string(features.c));

    // The head: mean over the spatial axes, then softmax(W x + b) as ClassifierModel::predict.
    const std::int64_t classes = std::int64_t(model.labels.size());
    graph.add_node({"GlobalAveragePool", "bottleneck/pool", {model.feature_layer}, {"bottleneck/pooled"}, {}});
    graph.add_node({"Flatten", "bottleneck", {"bottleneck/pooled"}, {"bottleneck"}, {int_attribute("axis", 1)}});
    graph.add_initializer("retrained/weights", {classes, model.feature_size}, model.head.weights.data());
    graph.add_initializer("retrained/bias", {classes}, model.head.bias.data());
    graph.add_node({"Gemm", "retrained", {"bottleneck", "retrained/weights", "retrained/bias"}, {"logits"},
                    {int_attribute("transB", 1)}});
    graph.add_node({"Softmax", "scores", {"logits"}, {"scores"}, {int_attribute("axis", 1)}});

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
               "', global average pool, a retrained softmax layer.\nInput 'image': float32 [N, " + size + ", " +
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
                     {"feature_layer", model.feature_layer}};
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
