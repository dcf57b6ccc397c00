// onnx.proto field numbers, written once here: ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, ValueInfoProto (TypeProto.Tensor, TensorShapeProto) and
// StringStringEntryProto.
#include "export/onnx_proto.hpp"

#include "error.hpp"

namespace tinception {
namespace {

constexpr std::int64_t kFloat = 1;       // TensorProto.DataType FLOAT
constexpr std::int64_t kAttrInt = 2;     // AttributeProto.AttributeType INT
constexpr std::int64_t kAttrInts = 7;    // AttributeProto.AttributeType INTS
const char* const kBatchDim = "N";

ProtoMessage encode_attribute(const OnnxAttribute& a) {
    ProtoMessage m;
    m.string_field(1, a.name);
    if (a.is_list)
        for (const std::int64_t v : a.values) m.varint_field(8, std::uint64_t(v));  // ints
    else
        m.varint_field(3, std::uint64_t(a.value));                                // i
    m.varint_field(20, std::uint64_t(a.is_list ? kAttrInts : kAttrInt));         // type
    return m;
}

ProtoMessage encode_node(const OnnxNode& n) {
    ProtoMessage m;
    for (const std::string& in : n.inputs) m.string_field(1, in);
    for (const std::string& out : n.outputs) m.string_field(2, out);
    m.string_field(3, n.name);
    m.string_field(4, n.op_type);
    for (const OnnxAttribute& a : n.attributes) m.message_field(5, encode_attribute(a));
    return m;
}

ProtoMessage encode_initializer(const OnnxInitializer& t) {
    ProtoMessage m;
    std::size_t count = 1;
    for (const std::int64_t d : t.dims) {
        m.varint_field(1, std::uint64_t(d));  // dims
        count *= std::size_t(d);
    }
    m.varint_field(2, kFloat);                                      // data_type
    m.string_field(8, t.name);                                      // name
    m.viewed_bytes_field(9, t.data, count * sizeof(float));         // raw_data, little-endian
    return m;
}

// ValueInfoProto { name = 1, type = 2: TypeProto { tensor_type = 1: { elem_type = 1,
// shape = 2: { dim = 1: { dim_value = 1 | dim_param = 2 } } } }, doc_string = 3 }
ProtoMessage encode_value_info(const OnnxValueInfo& v) {
    ProtoMessage shape;
    for (const std::int64_t d : v.dims) {
        ProtoMessage dim;
        if (d < 0)
            dim.string_field(2, kBatchDim);
        else
            dim.varint_field(1, std::uint64_t(d));
        shape.message_field(1, std::move(dim));
    }
    ProtoMessage tensor_type;
    tensor_type.varint_field(1, kFloat);
    tensor_type.message_field(2, std::move(shape));
    ProtoMessage type;
    type.message_field(1, std::move(tensor_type));
    ProtoMessage m;
    m.string_field(1, v.name);
    m.message_field(2, std::move(type));
    if (!v.doc.empty()) m.string_field(3, v.doc);
    return m;
}

}  // namespace

OnnxAttribute int_attribute(const std::string& name, std::int64_t value) {
    OnnxAttribute a;
    a.name = name;
    a.value = value;
    return a;
}

OnnxAttribute ints_attribute(const std::string& name, std::vector<std::int64_t> values) {
    OnnxAttribute a;
    a.name = name;
    a.is_list = true;
    a.values = std::move(values);
    return a;
}

std::int64_t ir_version_for_opset(std::int64_t opset) {
    if (opset < kMinOpset || opset > kMaxOpset)
        throw Error("ONNX opset " + std::to_string(opset) + " is not one this build writes (" +
                    std::to_string(kMinOpset) + ".." + std::to_string(kMaxOpset) + ")");
    if (opset <= 14) return 7;   // ONNX 1.8, 1.9
    if (opset <= 17) return 8;   // ONNX 1.10 .. 1.12
    if (opset <= 20) return 9;   // ONNX 1.13 .. 1.15
    return 10;                   // ONNX 1.16
}

ProtoMessage encode_onnx_model(const OnnxModel& model) {
    ProtoMessage graph;
    for (const OnnxNode& n : model.nodes) graph.message_field(1, encode_node(n));
    graph.string_field(2, model.graph_name);
    for (const OnnxInitializer& t : model.initializers) graph.message_field(5, encode_initializer(t));
    for (const OnnxValueInfo& v : model.inputs) graph.message_field(11, encode_value_info(v));
    for (const OnnxValueInfo& v : model.outputs) graph.message_field(12, encode_value_info(v));

    ProtoMessage opset;
    opset.string_field(1, "");  // the default domain, ai.onnx
    opset.varint_field(2, std::uint64_t(model.opset));

    ProtoMessage m;
    m.varint_field(1, std::uint64_t(ir_version_for_opset(model.opset)));
    m.string_field(2, "tinception");                  // producer_name
    m.string_field(3, model.producer_version);        // producer_version
    m.string_field(6, model.doc);                     // doc_string
    m.message_field(7, std::move(graph));
    m.message_field(8, std::move(opset));             // opset_import
    for (const auto& [key, value] : model.metadata) {
        ProtoMessage entry;
        entry.string_field(1, key);
        entry.string_field(2, value);
        m.message_field(14, std::move(entry));        // metadata_props
    }
    return m;
}

}  // namespace tinception
