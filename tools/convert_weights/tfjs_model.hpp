// Reads a standard TensorFlow.js layers-format model: model.json (Keras topology and
// weightsManifest) plus the binary shard files it names. Decodes weights to float on request;
// knows nothing of batch normalisation folding or the .tcw format (see convert.hpp).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tinception::convert {

// One Keras layer of a functional model.
struct KerasLayer {
    std::string name;
    std::string class_name;            // "Conv2D", "BatchNormalization", ...
    nlohmann::json config;
    std::vector<std::string> inputs;   // names of the inbound layers, in order
};

// Where one weight lives in its group's shard bytes and how it is stored.
struct WeightEntry {
    std::string name;
    std::vector<std::int64_t> shape;
    std::string dtype;                 // "float32", "int32", ...
    std::string quantization;          // "" (none), "uint8", "uint16", "float16"
    double min = 0.0, scale = 1.0;     // value = min + scale * q for uint8/uint16
    std::size_t group = 0;
    std::size_t offset = 0;            // bytes into the group's concatenated shards
    std::size_t size_bytes = 0;
};

struct QuantizedWeight {
    std::vector<std::uint8_t> q;
    double scale = 0.0, min = 0.0;
};

class TfjsModel {
public:
    // Parses and validates model.json, reads every shard and checks their sizes against the
    // manifest. Throws tinception::Error (bad input) with one sentence naming the file.
    static TfjsModel load(const std::string& model_json_path);

    const std::string& path() const { return path_; }
    const std::vector<KerasLayer>& layers() const { return layers_; }   // topological order
    const std::vector<std::string>& output_layers() const { return outputs_; }
    const KerasLayer* find_layer(const std::string& name) const;

    bool has_weight(const std::string& name) const;
    // The weight named "<layer>/<role>" (e.g. "conv2d_1/kernel") as float, checked against
    // `expected_shape`. Throws Error if missing, of another shape, or of an unsupported dtype.
    std::vector<float> weight(const std::string& name, const std::vector<std::int64_t>& expected_shape) const;
    const WeightEntry& entry(const std::string& name) const;
    // The weight's stored bytes when the source keeps it as affine uint8 (value = min + scale * q),
    // for an 8-bit .tcw to keep as they are; nullopt for any other storage. Checks as weight().
    std::optional<QuantizedWeight> quantized_u8(const std::string& name,
                                                const std::vector<std::int64_t>& expected_shape) const;

private:
    std::string path_;
    std::vector<KerasLayer> layers_;
    std::vector<std::string> outputs_;
    std::map<std::string, WeightEntry> weights_;
    std::vector<std::vector<std::uint8_t>> groups_;   // concatenated shard bytes per manifest group
};

std::string shape_text(const std::vector<std::int64_t>& shape);

}  // namespace tinception::convert
