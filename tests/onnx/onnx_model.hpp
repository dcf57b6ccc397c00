// The parts of an ONNX model and TensorProto the conformance test needs, decoded from the
// protobuf wire format: one graph's nodes, attributes, inputs and float tensors. Anything
// else (sub-graphs, sparse tensors, external data, training info) is skipped, not decoded.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tinception::onnx {

// TensorProto.DataType values we name; others are kept as numbers.
enum DataType : int { kFloat = 1, kUint8 = 2, kInt8 = 3, kInt32 = 6, kInt64 = 7, kDouble = 11 };

struct Tensor {
    std::string name;
    int data_type = 0;
    std::vector<std::int64_t> dims;
    std::vector<float> values;  // filled only for float tensors, product(dims) long
    bool external = false;      // data stored outside the file: not decoded

    std::int64_t element_count() const;
};

// AttributeProto.AttributeType values.
enum AttributeType : int { kAttrFloat = 1, kAttrInt = 2, kAttrString = 3, kAttrTensor = 4,
                           kAttrGraph = 5, kAttrFloats = 6, kAttrInts = 7, kAttrStrings = 8 };

struct Attribute {
    std::string name;
    int type = 0;
    float f = 0.0f;
    std::int64_t i = 0;
    std::string s;
    std::vector<float> floats;
    std::vector<std::int64_t> ints;
};

struct Node {
    std::string op_type, domain, name;
    std::vector<std::string> inputs, outputs;
    std::vector<Attribute> attributes;

    const Attribute* find(const std::string& attribute) const;  // nullptr when absent
    std::int64_t int_or(const std::string& attribute, std::int64_t fallback) const;
    float float_or(const std::string& attribute, float fallback) const;
    std::string string_or(const std::string& attribute, const std::string& fallback) const;
    std::vector<std::int64_t> ints_or(const std::string& attribute,
                                      std::vector<std::int64_t> fallback) const;
};

// A graph input or output: element type and shape, with -1 for a symbolic dimension.
struct ValueInfo {
    std::string name;
    int elem_type = 0;
    std::vector<std::int64_t> dims;
    bool has_shape = false;
    bool has_symbolic_dim() const;
};

struct Graph {
    std::string name;
    std::vector<Node> nodes;
    std::vector<ValueInfo> inputs, outputs;
    std::vector<Tensor> initializers;
};

struct Model {
    std::int64_t ir_version = 0;
    std::int64_t opset = 0;  // of the default ("" or "ai.onnx") domain
    std::string producer_name, doc_string;
    std::vector<std::pair<std::string, std::string>> metadata_props;  // in file order
    Graph graph;
};

// Throw tinception::Error, naming `context` (usually the file), on malformed bytes.
Tensor parse_tensor(const std::uint8_t* data, std::size_t size, const std::string& context);
Model parse_model(const std::uint8_t* data, std::size_t size, const std::string& context);

Tensor read_tensor_file(const std::string& path);
Model read_model_file(const std::string& path);

}  // namespace tinception::onnx
