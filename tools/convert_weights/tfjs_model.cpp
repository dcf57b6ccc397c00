// TF.js layers-format reading: model.json structure, shard concatenation per manifest group,
// and dequantisation (uint8/uint16 affine, float16). Any malformed JSON is one clear error.
#include "tfjs_model.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include "error.hpp"
#include "file_io.hpp"
#include "weights/batch_norm_fold.hpp"

namespace tinception::convert {
namespace {

std::size_t stored_element_bytes(const WeightEntry& w, const std::string& where) {
    if (w.quantization == "uint8") return 1;
    if (w.quantization == "uint16" || w.quantization == "float16") return 2;
    if (!w.quantization.empty())
        throw Error(where + ": weight '" + w.name + "' uses quantization dtype '" + w.quantization +
                    "'; supported are uint8, uint16 and float16");
    if (w.dtype == "float32" || w.dtype == "int32") return 4;
    if (w.dtype == "bool") return 1;
    throw Error(where + ": weight '" + w.name + "' has dtype '" + w.dtype +
                "'; supported are float32 (optionally quantized) and, as unused weights, int32 and bool");
}

float half_to_float(std::uint16_t h) {
    const int sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    float v;
    if (exponent == 0)
        v = std::ldexp(float(mantissa), -24);
    else if (exponent == 31)
        v = mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else
        v = std::ldexp(float(mantissa + 1024), exponent - 25);
    return sign ? -v : v;
}

// Kahn's algorithm, keeping the file's order among ready layers.
std::vector<KerasLayer> topological(std::vector<KerasLayer> layers, const std::string& path) {
    std::set<std::string> names;
    for (const KerasLayer& l : layers)
        if (!names.insert(l.name).second) throw Error(path + ": layer '" + l.name + "' is defined twice");
    for (const KerasLayer& l : layers)
        for (const std::string& in : l.inputs)
            if (!names.count(in)) throw Error(path + ": layer '" + l.name + "' takes input from unknown layer '" + in + "'");
    std::vector<KerasLayer> sorted;
    std::set<std::string> done;
    std::vector<bool> emitted(layers.size(), false);
    while (sorted.size() < layers.size()) {
        bool progress = false;
        for (std::size_t i = 0; i < layers.size(); ++i) {
            if (emitted[i]) continue;
            bool ready = true;
            for (const std::string& in : layers[i].inputs) ready = ready && done.count(in);
            if (!ready) continue;
            emitted[i] = true;
            done.insert(layers[i].name);
            sorted.push_back(std::move(layers[i]));
            progress = true;
        }
        if (!progress) throw Error(path + ": the layer graph has a cycle");
    }
    return sorted;
}

}  // namespace

std::string shape_text(const std::vector<std::int64_t>& shape) {
    if (shape.empty()) return "[]";
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return s + "]";
}

TfjsModel TfjsModel::load(const std::string& model_json_path) {
    TfjsModel m;
    m.path_ = model_json_path;
    const std::string& path = m.path_;
    const std::vector<std::uint8_t> text = read_file_bytes(path);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
        throw Error(path + ": is not valid JSON (" + e.what() + ")");
    }
    try {
        if (!j.is_object() || !j.contains("modelTopology") || !j.contains("weightsManifest"))
            throw Error(path + ": is not a TF.js layers model (needs modelTopology and weightsManifest)");
        const nlohmann::json& topology = j.at("modelTopology");
        const nlohmann::json& model = topology.contains("model_config") ? topology.at("model_config") : topology;
        const std::string model_class = model.at("class_name").get<std::string>();
        if (model_class != "Model" && model_class != "Functional")
            throw Error(path + ": model class '" + model_class + "' is not supported; only functional Keras models are");
        std::vector<KerasLayer> layers;
        for (const nlohmann::json& jl : model.at("config").at("layers")) {
            KerasLayer l;
            l.name = jl.at("name").get<std::string>();
            l.class_name = jl.at("class_name").get<std::string>();
            l.config = jl.at("config");
            const nlohmann::json& nodes = jl.at("inbound_nodes");
            if (nodes.size() > 1)
                throw Error(path + ": layer '" + l.name + "' is applied more than once; shared layers are not supported");
            if (nodes.size() == 1) {
                if (!nodes[0].is_array())
                    throw Error(path + ": layer '" + l.name + "' uses the Keras 3 node format, which is not supported");
                for (const nlohmann::json& in : nodes[0]) l.inputs.push_back(in.at(0).get<std::string>());
            }
            layers.push_back(std::move(l));
        }
        m.layers_ = topological(std::move(layers), path);
        for (const nlohmann::json& out : model.at("config").at("output_layers"))
            m.outputs_.push_back(out.at(0).get<std::string>());

        const std::filesystem::path dir = std::filesystem::path(path).parent_path();
        for (const nlohmann::json& group : j.at("weightsManifest")) {
            const std::size_t g = m.groups_.size();
            std::vector<std::uint8_t> bytes;
            for (const nlohmann::json& shard : group.at("paths")) {
                const std::string shard_name = shard.get<std::string>();
                if (shard_name.empty() || std::filesystem::path(shard_name).is_absolute())
                    throw Error(path + ": shard path '" + shard_name + "' must be a relative file name");
                const std::vector<std::uint8_t> part = read_file_bytes((dir / shard_name).string());
                bytes.insert(bytes.end(), part.begin(), part.end());
            }
            std::size_t offset = 0;
            for (const nlohmann::json& jw : group.at("weights")) {
                WeightEntry w;
                w.name = jw.at("name").get<std::string>();
                w.dtype = jw.at("dtype").get<std::string>();
                for (const nlohmann::json& d : jw.at("shape")) {
                    const std::int64_t dim = d.get<std::int64_t>();
                    if (dim < 0 || dim > (std::int64_t(1) << 31))
                        throw Error(path + ": weight '" + w.name + "' has dimension " + std::to_string(dim));
                    w.shape.push_back(dim);
                }
                if (jw.contains("quantization") && !jw.at("quantization").is_null()) {
                    const nlohmann::json& q = jw.at("quantization");
                    w.quantization = q.at("dtype").get<std::string>();
                    if (w.quantization == "uint8" || w.quantization == "uint16") {
                        w.min = q.at("min").get<double>();
                        w.scale = q.at("scale").get<double>();
                    }
                }
                std::uint64_t count = 1;
                for (const std::int64_t d : w.shape) {
                    if (d != 0 && count > (std::uint64_t(1) << 40) / std::uint64_t(d))
                        throw Error(path + ": weight '" + w.name + "' is implausibly large");
                    count *= std::uint64_t(d);
                }
                w.group = g;
                w.offset = offset;
                w.size_bytes = std::size_t(count) * stored_element_bytes(w, path);
                offset += w.size_bytes;
                if (!m.weights_.emplace(w.name, w).second)
                    throw Error(path + ": weight '" + w.name + "' appears twice in the manifest");
            }
            if (offset != bytes.size())
                throw Error(path + ": manifest group " + std::to_string(g) + " describes " + std::to_string(offset) +
                            " bytes of weights but its shard files hold " + std::to_string(bytes.size()));
            m.groups_.push_back(std::move(bytes));
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(path + ": unexpected model.json structure (" + e.what() + ")");
    }
    return m;
}

const KerasLayer* TfjsModel::find_layer(const std::string& name) const {
    for (const KerasLayer& l : layers_)
        if (l.name == name) return &l;
    return nullptr;
}

bool TfjsModel::has_weight(const std::string& name) const { return weights_.count(name) != 0; }

const WeightEntry& TfjsModel::entry(const std::string& name) const {
    const auto it = weights_.find(name);
    if (it == weights_.end()) throw Error(path_ + ": weight '" + name + "' is missing from the manifest");
    return it->second;
}

std::vector<float> TfjsModel::weight(const std::string& name, const std::vector<std::int64_t>& expected_shape) const {
    const WeightEntry& w = entry(name);
    if (w.shape != expected_shape)
        throw Error(path_ + ": weight '" + name + "' has shape " + shape_text(w.shape) + ", expected " +
                    shape_text(expected_shape));
    if (w.dtype != "float32")
        throw Error(path_ + ": weight '" + name + "' is stored as " + w.dtype + "; the converter needs float32 weights");
    const std::uint8_t* p = groups_[w.group].data() + w.offset;
    const std::size_t bytes = stored_element_bytes(w, path_);
    std::vector<float> out(w.size_bytes / bytes);
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (w.quantization == "uint8") {
            out[i] = dequantize_u8(p[i], w.scale, w.min);
        } else if (w.quantization == "uint16") {
            std::uint16_t q;
            std::memcpy(&q, p + 2 * i, 2);
            out[i] = float(w.min + w.scale * double(q));
        } else if (w.quantization == "float16") {
            std::uint16_t h;
            std::memcpy(&h, p + 2 * i, 2);
            out[i] = half_to_float(h);
        } else {
            std::memcpy(&out[i], p + 4 * i, 4);
        }
    }
    return out;
}

std::optional<QuantizedWeight> TfjsModel::quantized_u8(const std::string& name,
                                                      const std::vector<std::int64_t>& expected_shape) const {
    weight(name, expected_shape);  // the same checks, and the same values a float32 file gets
    const WeightEntry& w = entry(name);
    if (w.quantization != "uint8") return std::nullopt;
    const std::uint8_t* p = groups_[w.group].data() + w.offset;
    return QuantizedWeight{std::vector<std::uint8_t>(p, p + w.size_bytes), w.scale, w.min};
}

}  // namespace tinception::convert
