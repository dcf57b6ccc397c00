// The graph rewrite from Keras layers to tinception layers, with shape inference so every
// weight's shape is checked against what its layer will be fed.
#include "convert.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "error.hpp"
#include "uint8_file.hpp"
#include "weights/batch_norm_fold.hpp"
#include "weights/weight_file.hpp"

namespace tinception::convert {
namespace {

// NHWC without the batch: {h, w, c} for images, {n} after Flatten.
using Shape = std::vector<std::int64_t>;

struct Conv {
    std::size_t layer_index = 0;
    std::vector<float> weights;  // OIHW
    std::vector<float> bias;
    bool batch_norm_folded = false;
};

class Converter {
public:
    Converter(const TfjsModel& model, const ConvertOptions& options) : model_(model), options_(options) {}

    WeightFileWriter run() {
        const std::set<std::string> kept = kept_layers();
        for (const KerasLayer& l : model_.layers())
            for (const std::string& in : l.inputs)
                if (kept.count(l.name)) ++consumers_[in];
        for (const KerasLayer& l : model_.layers())
            if (kept.count(l.name)) convert(l);

        WeightFileWriter writer;
        for (const LayerSpec& l : layers_) {
            writer.add_layer(l);
            const auto conv = convs_.find(l.name);
            if (conv != convs_.end()) {
                const std::int64_t out_c = std::int64_t(conv->second.bias.size());
                const std::int64_t kh = l.ints.at("kernel_h"), kw = l.ints.at("kernel_w");
                const std::int64_t in_c = std::int64_t(conv->second.weights.size()) / out_c / (kh * kw);
                writer.add_tensor(l.tensors[0], {out_c, in_c, kh, kw}, std::move(conv->second.weights));
                writer.add_tensor(l.tensors[1], {out_c}, std::move(conv->second.bias));
            }
            const auto dense = dense_.find(l.name);
            if (dense != dense_.end()) {
                const std::int64_t out = std::int64_t(dense->second.second.size());
                const std::int64_t in = std::int64_t(dense->second.first.size()) / out;
                writer.add_tensor(l.tensors[0], {out, in}, std::move(dense->second.first));
                writer.add_tensor(l.tensors[1], {out}, std::move(dense->second.second));
            }
        }
        for (const LayerSpec& l : layers_) {  // an 8-bit conv2d without bias or batch norm keeps zeros
            const auto k = kept_.find(l.name);
            if (k != kept_.end() && l.op == "conv2d" && k->second.tensors.size() == 1) {
                const std::int64_t out_c = k->second.tensors[0].dims[0];
                k->second.tensors.push_back({l.name + "/bias", {out_c}, std::nullopt, std::vector<float>(std::size_t(out_c))});
            }
        }
        writer.set_metadata("source", options_.source.empty() ? "tfjs:" + model_.path() : options_.source);
        writer.set_metadata("converter_version", kConverterVersion);
        if (input_h_ > 0 && input_h_ == input_w_) writer.set_metadata("input_size", std::to_string(input_h_));
        const auto [scale, offset] = input_scaling();
        writer.set_metadata("input_scale", shortest_text(scale));
        writer.set_metadata("input_offset", shortest_text(offset));
        writer.set_metadata("resize", "bilinear");
        writer.set_metadata("align_corners", "1");
        if (!options_.labels.empty()) writer.set_metadata("labels", options_.labels);
        return writer;
    }

    // After run(), with options.uint8: what the 8-bit file keeps of each layer.
    const std::map<std::string, KeptLayer>& kept() const { return kept_; }

private:
    // value = pixel * scale + offset: from a leading Rescaling layer (Keras feeds it raw
    // 0..255 pixels) or from the caller's input range, never assumed.
    std::pair<double, double> input_scaling() const {
        if (rescaling_ && options_.input_range)
            throw Error(model_.path() + ": the model's Rescaling layer already sets how pixels are scaled; "
                                        "drop --input-range");
        if (rescaling_) return *rescaling_;
        if (!options_.input_range)
            throw Error(model_.path() + ": the model does not say how its input pixels are scaled; pass "
                                        "--input-range 0,1 (pixels / 255, as nsfwjs's model) or --input-range -1,1 "
                                        "(keras.applications' InceptionV3)");
        const auto [lo, hi] = *options_.input_range;
        return {(hi - lo) / 255.0, lo};
    }

    // The shortest decimal that reads back as the same double.
    static std::string shortest_text(double v) {
        char text[32];
        for (int digits = 1; digits <= 17; ++digits) {
            std::snprintf(text, sizeof text, "%.*g", digits, v);
            if (std::strtod(text, nullptr) == v) break;
        }
        return text;
    }

    // Keras's Rescaling(scale, offset), allowed only straight after the input layer, where
    // it is the model's preprocessing; elsewhere it would be arithmetic the engine lacks.
    void take_rescaling(const KerasLayer& l) {
        const std::string& from = source_of(l);
        if (rescaling_ || layers_.empty() || layers_.front().name != from || shapes_.at(from).size() != 3)
            fail(l, "is a Rescaling that does not directly follow the input layer; only input scaling is supported");
        const auto number = [&](const char* key, double fallback) {
            if (!l.config.contains(key)) return fallback;
            const nlohmann::json& v = l.config.at(key);
            if (!v.is_number() || !std::isfinite(v.get<double>()))
                fail(l, std::string("has ") + key + " " + v.dump() + "; only one finite number is supported");
            return v.get<double>();
        };
        const double scale = number("scale", 1.0);
        if (scale == 0.0) fail(l, "has scale 0, which would blank every image");
        rescaling_ = std::make_pair(scale, number("offset", 0.0));
        alias_[l.name] = from;
    }

    [[noreturn]] void fail(const KerasLayer& l, const std::string& what) const {
        throw Error(model_.path() + ": layer '" + l.name + "' (" + l.class_name + ") " + what);
    }

    // Everything the last Flatten depends on, or every layer with --keep-head.
    std::set<std::string> kept_layers() const {
        std::set<std::string> kept;
        std::vector<std::string> todo;
        if (options_.keep_head) {
            for (const KerasLayer& l : model_.layers()) kept.insert(l.name);
            return kept;
        }
        for (const KerasLayer& l : model_.layers())
            if (l.class_name == "Flatten") todo = {l.name};
        if (todo.empty())
            throw Error(model_.path() + ": the model has no Flatten layer to cut the head at; pass --keep-head to keep all layers");
        while (!todo.empty()) {
            const std::string name = todo.back();
            todo.pop_back();
            if (!kept.insert(name).second) continue;
            for (const std::string& in : model_.find_layer(name)->inputs) todo.push_back(in);
        }
        return kept;
    }

    std::int64_t int_of(const KerasLayer& l, const nlohmann::json& v, const char* what) const {
        if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > (1 << 20))
            fail(l, std::string("has ") + what + " " + v.dump() + ", expected a positive integer");
        return v.get<std::int64_t>();
    }
    std::pair<std::int64_t, std::int64_t> pair_of(const KerasLayer& l, const char* key) const {
        const nlohmann::json& v = l.config.at(key);
        if (v.is_array() && v.size() == 2) return {int_of(l, v[0], key), int_of(l, v[1], key)};
        return {int_of(l, v, key), int_of(l, v, key)};
    }
    std::string text_of(const KerasLayer& l, const char* key, const std::string& fallback) const {
        if (!l.config.contains(key) || l.config.at(key).is_null()) return fallback;
        return l.config.at(key).get<std::string>();
    }
    void check_channels_last(const KerasLayer& l) const {
        if (text_of(l, "data_format", "channels_last") != "channels_last") fail(l, "is not channels_last");
    }
    void check_axis_is_channels(const KerasLayer& l) const {
        nlohmann::json axis = l.config.at("axis");
        if (axis.is_array() && axis.size() == 1) axis = axis[0];
        if (!axis.is_number_integer() || (axis.get<int>() != 3 && axis.get<int>() != -1))
            fail(l, "works on axis " + axis.dump() + "; only the channel axis (3 or -1) is supported");
    }

    const std::string& source_of(const KerasLayer& l, std::size_t i = 0) const {
        if (l.inputs.size() <= i) fail(l, "has no input " + std::to_string(i));
        return alias_.at(l.inputs[i]);
    }
    const Shape& image_input(const KerasLayer& l, std::size_t i = 0) const {
        const Shape& s = shapes_.at(source_of(l, i));
        if (s.size() != 3) fail(l, "needs an image input (height x width x channels) but gets " + shape_text(s));
        return s;
    }
    std::int64_t output_size(const KerasLayer& l, std::int64_t in, std::int64_t kernel, std::int64_t stride,
                             const std::string& padding) const {
        if (padding == "same") return (in + stride - 1) / stride;
        if (padding != "valid") fail(l, "has padding '" + padding + "'; supported are same and valid");
        if (in < kernel) fail(l, "has a kernel of " + std::to_string(kernel) + " over an input of " + std::to_string(in));
        return (in - kernel) / stride + 1;
    }
    // The conv this layer can be folded into: its only consumer must be this layer.
    Conv& foldable_conv(const KerasLayer& l, const char* what) {
        if (l.inputs.size() != 1) fail(l, "must have exactly one input");
        const auto conv = convs_.find(alias_.at(l.inputs[0]));
        if (conv == convs_.end() || consumers_[l.inputs[0]] != 1)
            fail(l, std::string("does not directly follow a Conv2D that feeds only it; a standalone ") + what +
                        " is not supported");
        return conv->second;
    }
    LayerSpec& emit(const KerasLayer& l, const std::string& op, Shape shape) {
        alias_[l.name] = l.name;
        shapes_[l.name] = std::move(shape);
        LayerSpec spec;
        spec.name = l.name;
        spec.op = op;
        for (std::size_t i = 0; i < l.inputs.size(); ++i) spec.inputs.push_back(source_of(l, i));
        layers_.push_back(std::move(spec));
        return layers_.back();
    }

    void convert(const KerasLayer& l) {
        const std::string& c = l.class_name;
        if (c == "InputLayer") {
            nlohmann::json shape = l.config.contains("batch_input_shape") ? l.config.at("batch_input_shape")
                                                                          : l.config.at("batchInputShape");
            if (!shape.is_array() || shape.size() != 4) fail(l, "must have a batch_input_shape of [batch, height, width, channels]");
            input_h_ = int_of(l, shape[1], "height");
            input_w_ = int_of(l, shape[2], "width");
            const std::int64_t ch = int_of(l, shape[3], "channels");
            LayerSpec& s = emit(l, "input", {input_h_, input_w_, ch});
            s.ints = {{"height", input_h_}, {"width", input_w_}, {"channels", ch}};
        } else if (c == "Conv2D") {
            convert_conv(l);
        } else if (c == "BatchNormalization") {
            fold_batch_norm(l);
        } else if (c == "Activation") {
            const std::string act = text_of(l, "activation", "linear");
            if (act == "relu") {
                Conv& conv = foldable_conv(l, "relu");
                LayerSpec& spec = layers_[conv.layer_index];
                if (spec.ints["relu"]) fail(l, "follows a layer that already applies relu");
                spec.ints["relu"] = 1;
            } else if (act != "linear") {
                fail(l, "applies '" + act + "'; only relu (fused into the preceding conv) and linear are supported");
            }
            alias_[l.name] = source_of(l);
        } else if (c == "Rescaling") {
            take_rescaling(l);
        } else if (c == "Dropout") {
            alias_[l.name] = source_of(l);
        } else if (c == "MaxPooling2D" || c == "AveragePooling2D") {
            check_channels_last(l);
            const Shape in = image_input(l);
            const auto [kh, kw] = pair_of(l, "pool_size");
            const auto [sh, sw] = l.config.contains("strides") && !l.config.at("strides").is_null()
                                      ? pair_of(l, "strides") : std::make_pair(kh, kw);
            const std::string padding = text_of(l, "padding", "valid");
            LayerSpec& s = emit(l, c == "MaxPooling2D" ? "maxpool2d" : "avgpool2d",
                                {output_size(l, in[0], kh, sh, padding), output_size(l, in[1], kw, sw, padding), in[2]});
            s.ints = {{"kernel_h", kh}, {"kernel_w", kw}, {"stride_h", sh}, {"stride_w", sw}};
            s.strings = {{"padding", padding}};
        } else if (c == "Concatenate") {
            check_axis_is_channels(l);
            if (l.inputs.empty()) fail(l, "has no inputs");
            Shape out = image_input(l, 0);
            for (std::size_t i = 1; i < l.inputs.size(); ++i) {
                const Shape& s = image_input(l, i);
                if (s[0] != out[0] || s[1] != out[1])
                    fail(l, "joins inputs of different sizes: " + shape_text(out) + " and " + shape_text(s));
                out[2] += s[2];
            }
            emit(l, "concat", out);
        } else if (c == "Flatten") {
            const Shape in = shapes_.at(source_of(l));
            std::int64_t n = 1;
            for (const std::int64_t d : in) n *= d;
            emit(l, "flatten", {n});
        } else if (c == "Dense") {
            convert_dense(l);
        } else {
            fail(l, "is a layer type the converter does not support");
        }
    }

    void convert_conv(const KerasLayer& l) {
        check_channels_last(l);
        const Shape in = image_input(l);
        const auto [kh, kw] = pair_of(l, "kernel_size");
        const auto [sh, sw] = pair_of(l, "strides");
        if (l.config.contains("dilation_rate") && pair_of(l, "dilation_rate") != std::make_pair(std::int64_t(1), std::int64_t(1)))
            fail(l, "is dilated; dilated convolutions are not supported");
        if (l.config.contains("groups") && l.config.at("groups") != 1) fail(l, "is grouped; not supported");
        const std::string act = text_of(l, "activation", "linear");
        if (act != "linear" && act != "relu") fail(l, "has activation '" + act + "'; supported are linear and relu");
        const std::string padding = text_of(l, "padding", "valid");
        const std::int64_t out_c = int_of(l, l.config.at("filters"), "filters");
        const std::int64_t in_c = in[2];
        const auto to_oihw = [&](const auto& hwio) { return hwio_to_oihw(hwio, kh, kw, in_c, out_c); };
        Conv conv;
        conv.weights = to_oihw(model_.weight(l.name + "/kernel", {kh, kw, in_c, out_c}));
        const bool use_bias = !l.config.contains("use_bias") || l.config.at("use_bias").get<bool>();
        conv.bias = use_bias ? model_.weight(l.name + "/bias", {out_c}) : std::vector<float>(std::size_t(out_c), 0.0f);
        if (options_.uint8) {
            KeptLayer& k = kept_[l.name];
            k.tensors.push_back(keep_weight(model_, l.name + "/kernel", {kh, kw, in_c, out_c}, l.name + "/weights",
                                            {out_c, in_c, kh, kw}, to_oihw));
            if (use_bias) k.tensors.push_back(keep_weight(model_, l.name + "/bias", {out_c}, l.name + "/bias", {out_c}, same));
        }
        LayerSpec& s = emit(l, "conv2d", {output_size(l, in[0], kh, sh, padding), output_size(l, in[1], kw, sw, padding), out_c});
        s.ints = {{"kernel_h", kh}, {"kernel_w", kw}, {"stride_h", sh}, {"stride_w", sw}, {"relu", act == "relu"}};
        s.strings = {{"padding", padding}};
        s.tensors = {l.name + "/weights", l.name + "/bias"};
        conv.layer_index = layers_.size() - 1;
        convs_[l.name] = std::move(conv);
    }

    // y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta, so with k = gamma / sqrt(var + eps):
    // w' = w * k and b' = beta + (b - mean) * k, per output channel; computed in double by
    // batch_norm_fold.hpp, which the reader of 8-bit files folds with too.
    void fold_batch_norm(const KerasLayer& l) {
        check_axis_is_channels(l);
        Conv& conv = foldable_conv(l, "BatchNormalization");
        if (conv.batch_norm_folded) fail(l, "follows a conv that already has a batch normalisation folded in");
        if (layers_[conv.layer_index].ints["relu"]) fail(l, "follows a conv with a relu activation; cannot fold");
        const std::int64_t out_c = std::int64_t(conv.bias.size());
        const double eps = l.config.contains("epsilon") ? l.config.at("epsilon").get<double>() : 1e-3;
        if (!(eps >= 0.0)) fail(l, "has a negative epsilon");
        const bool scale = !l.config.contains("scale") || l.config.at("scale").get<bool>();
        const bool center = !l.config.contains("center") || l.config.at("center").get<bool>();
        const std::vector<float> gamma = scale ? model_.weight(l.name + "/gamma", {out_c}) : std::vector<float>(conv.bias.size(), 1.0f);
        const std::vector<float> beta = center ? model_.weight(l.name + "/beta", {out_c}) : std::vector<float>(conv.bias.size(), 0.0f);
        const std::vector<float> mean = model_.weight(l.name + "/moving_mean", {out_c});
        const std::vector<float> var = model_.weight(l.name + "/moving_variance", {out_c});
        const std::vector<double> k = batch_norm_factors(
            scale ? gamma.data() : nullptr, var.data(), var.size(), eps,
            model_.path() + ": layer '" + l.name + "' (" + l.class_name + ")");
        fold_batch_norm_weights(conv.weights.data(), conv.weights.size() / conv.bias.size(), k);
        fold_batch_norm_bias(conv.bias.data(), center ? beta.data() : nullptr, mean.data(), k);
        if (options_.uint8) {
            const std::string& conv_name = layers_[conv.layer_index].name;
            KeptLayer& kept = kept_[conv_name];
            for (const char* role : {"gamma", "beta", "moving_mean", "moving_variance"})
                if ((role != std::string("gamma") || scale) && (role != std::string("beta") || center))
                    kept.tensors.push_back(keep_weight(model_, l.name + "/" + role, {out_c},
                                                       conv_name + "/" + role, {out_c}, same));
            kept.batch_norm_epsilon = shortest_text(eps);
        }
        conv.batch_norm_folded = true;
        alias_[l.name] = source_of(l);
    }

    void convert_dense(const KerasLayer& l) {
        const Shape in = shapes_.at(source_of(l));
        if (in.size() != 1) fail(l, "needs a flat input but gets " + shape_text(in) + "; put a Flatten before it");
        const std::int64_t units = int_of(l, l.config.at("units"), "units");
        const std::string act = text_of(l, "activation", "linear");
        if (act != "linear" && act != "relu" && act != "softmax")
            fail(l, "has activation '" + act + "'; supported are linear, relu and softmax");
        const auto to_oi = [&](const auto& io) { return transposed(io, in[0], units); };
        std::vector<float> oi = to_oi(model_.weight(l.name + "/kernel", {in[0], units}));
        const bool use_bias = !l.config.contains("use_bias") || l.config.at("use_bias").get<bool>();
        std::vector<float> bias = use_bias ? model_.weight(l.name + "/bias", {units}) : std::vector<float>(std::size_t(units), 0.0f);
        if (options_.uint8) {
            KeptLayer& k = kept_[l.name];
            k.tensors.push_back(keep_weight(model_, l.name + "/kernel", {in[0], units}, l.name + "/weights",
                                            {units, in[0]}, to_oi));
            k.tensors.push_back(use_bias ? keep_weight(model_, l.name + "/bias", {units}, l.name + "/bias", {units}, same)
                                         : KeptTensor{l.name + "/bias", {units}, std::nullopt, bias});
        }
        LayerSpec& s = emit(l, "dense", {units});
        s.strings = {{"activation", act}};
        s.tensors = {l.name + "/weights", l.name + "/bias"};
        dense_[l.name] = {std::move(oi), std::move(bias)};
    }

    static constexpr auto same = [](const auto& v) { return v; };

    const TfjsModel& model_;
    const ConvertOptions& options_;
    std::map<std::string, KeptLayer> kept_;         // options_.uint8: the 8-bit file's tensors by layer
    std::map<std::string, int> consumers_;          // Keras layer -> how many kept layers read it
    std::map<std::string, std::string> alias_;      // Keras layer -> the emitted layer carrying its value
    std::map<std::string, Shape> shapes_;           // emitted layer -> output shape
    std::vector<LayerSpec> layers_;
    std::map<std::string, Conv> convs_;
    std::map<std::string, std::pair<std::vector<float>, std::vector<float>>> dense_;
    std::int64_t input_h_ = 0, input_w_ = 0;
    std::optional<std::pair<double, double>> rescaling_;  // scale, offset
};

}  // namespace

WeightFileWriter build_weight_file(const TfjsModel& model, const ConvertOptions& options) {
    try {
        Converter converter(model, options);
        WeightFileWriter float32_file = converter.run();
        return options.uint8 ? uint8_weight_file(float32_file, converter.kept()) : float32_file;
    } catch (const nlohmann::json::exception& e) {
        throw Error(model.path() + ": unexpected layer configuration (" + e.what() + ")");
    }
}

ConvertSummary convert_weights(const ConvertOptions& options) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(options.out_path, ec) && !options.force)
        throw Error(options.out_path + ": already exists; pass --force to overwrite it");
    const TfjsModel model = TfjsModel::load(options.model_json);
    const WeightFileWriter writer = build_weight_file(model, options);
    const std::string tmp = options.out_path + ".tmp";
    ConvertSummary summary;
    try {
        writer.write(tmp);
        const WeightFile check = WeightFile::open(tmp);
        for (const LayerSpec& l : check.layers()) ++summary.layers_by_op[l.op];
        summary.tensor_count = check.tensors().size();
        for (const TensorRef& t : check.tensors()) summary.parameter_count += t.count;
        summary.file_size = check.file_size();
        summary.checksum = check.checksum();
        summary.file_checksum = check.file_checksum();
        summary.format_version = check.format_version();
    } catch (...) {
        fs::remove(tmp, ec);
        throw;
    }
    fs::rename(tmp, options.out_path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw Error(options.out_path + ": cannot rename the finished file into place: " + ec.message(), ErrorKind::internal);
    }
    return summary;
}

}  // namespace tinception::convert
