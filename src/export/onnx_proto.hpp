// An ONNX model as plain data (nodes, initialisers, typed inputs and outputs, metadata) and
// its encoding as an onnx.proto ModelProto. Initialiser values are viewed, not copied: they
// must stay valid until the model is written. What the nodes mean is onnx_export.cpp's.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "export/protobuf_writer.hpp"

namespace tinception {

struct OnnxAttribute {
    std::string name;
    bool is_list = false;  // INTS when true, INT otherwise
    std::int64_t value = 0;
    std::vector<std::int64_t> values;
};

struct OnnxNode {
    std::string op_type, name;
    std::vector<std::string> inputs, outputs;
    std::vector<OnnxAttribute> attributes;
};

// A float32 initialiser: dims and a view of product(dims) floats (little-endian host).
struct OnnxInitializer {
    std::string name;
    std::vector<std::int64_t> dims;
    const float* data = nullptr;
};

// A float32 graph input or output; a dimension of -1 is the symbolic batch size `N`.
struct OnnxValueInfo {
    std::string name;
    std::vector<std::int64_t> dims;
    std::string doc;
};

struct OnnxModel {
    std::int64_t opset = 13;
    std::string producer_version, graph_name, doc;
    std::vector<OnnxNode> nodes;  // in an order where every input is defined before use
    std::vector<OnnxInitializer> initializers;
    std::vector<OnnxValueInfo> inputs, outputs;
    std::vector<std::pair<std::string, std::string>> metadata;
    std::vector<std::vector<float>> owned;  // initialiser data made for the export (a folded head)
};

OnnxAttribute int_attribute(const std::string& name, std::int64_t value);
OnnxAttribute ints_attribute(const std::string& name, std::vector<std::int64_t> values);

// The lowest IR version that can carry `opset` (onnx/docs/Versioning.md). Throws Error for
// opsets outside kMinOpset..kMaxOpset.
inline constexpr int kMinOpset = 13;
inline constexpr int kMaxOpset = 21;
std::int64_t ir_version_for_opset(std::int64_t opset);

// The ModelProto, its initialisers' values still views.
ProtoMessage encode_onnx_model(const OnnxModel& model);

}  // namespace tinception
