// Decodes ONNX ModelProto / GraphProto / NodeProto / TensorProto fields by number; the
// field numbers are those of onnx.proto. Unknown fields are skipped, as protobuf allows.
#include "onnx_model.hpp"

#include <cstring>
#include <limits>

#include "error.hpp"
#include "file_io.hpp"
#include "protobuf_reader.hpp"

namespace tinception::onnx {
namespace {

Tensor read_tensor(ProtoReader r) {
    Tensor t;
    std::vector<float> float_data;
    const std::uint8_t* raw = nullptr;
    std::size_t raw_size = 0;
    bool has_raw = false;
    ProtoField f;
    while (r.next(f)) {
        switch (f.number) {
            case 1: r.append_int64s(f, t.dims); break;                    // dims
            case 2: t.data_type = int(r.as_int64(f)); break;              // data_type
            case 4: r.append_floats(f, float_data); break;                // float_data
            case 8: t.name = r.as_string(f); break;                       // name
            case 9:                                                       // raw_data
                if (f.wire != WireType::length_delimited) r.fail("raw_data is not a byte string");
                raw = f.bytes, raw_size = f.size, has_raw = true;
                break;
            case 14: t.external = r.as_int64(f) == 1; break;              // data_location
            default: break;
        }
    }
    std::int64_t count = 1;
    for (const std::int64_t d : t.dims) {
        if (d < 0) r.fail("tensor '" + t.name + "' has a negative dimension " + std::to_string(d));
        if (d && count > std::numeric_limits<std::int32_t>::max() / d)
            r.fail("tensor '" + t.name + "' has more elements than this reader handles");
        count *= d;
    }
    if (t.data_type != kFloat || t.external) return t;
    if (has_raw) {
        if (raw_size != std::size_t(count) * 4)
            r.fail("tensor '" + t.name + "' has " + std::to_string(raw_size) + " raw bytes, expected " +
                   std::to_string(count * 4) + " for " + std::to_string(count) + " floats");
        t.values.resize(std::size_t(count));
        for (std::size_t i = 0; i < t.values.size(); ++i) t.values[i] = float_from_le(raw + 4 * i);
    } else {
        if (float_data.size() != std::size_t(count))
            r.fail("tensor '" + t.name + "' has " + std::to_string(float_data.size()) +
                   " float_data values, expected " + std::to_string(count));
        t.values = std::move(float_data);
    }
    return t;
}

Attribute read_attribute(ProtoReader r) {
    Attribute a;
    ProtoField f;
    while (r.next(f)) {
        switch (f.number) {
            case 1: a.name = r.as_string(f); break;
            case 2: a.f = r.as_float(f); break;
            case 3: a.i = r.as_int64(f); break;
            case 4: a.s = r.as_string(f); break;
            case 7: r.append_floats(f, a.floats); break;
            case 8: r.append_int64s(f, a.ints); break;
            case 20: a.type = int(r.as_int64(f)); break;
            default: break;  // tensors, graphs, strings, type protos: not needed here
        }
    }
    return a;
}

Node read_node(ProtoReader r) {
    Node n;
    ProtoField f;
    while (r.next(f)) {
        switch (f.number) {
            case 1: n.inputs.push_back(r.as_string(f)); break;
            case 2: n.outputs.push_back(r.as_string(f)); break;
            case 3: n.name = r.as_string(f); break;
            case 4: n.op_type = r.as_string(f); break;
            case 5: n.attributes.push_back(read_attribute(r.as_message(f, "attribute"))); break;
            case 7: n.domain = r.as_string(f); break;
            default: break;
        }
    }
    return n;
}

// TypeProto { tensor_type = 1: { elem_type = 1, shape = 2: { dim = 1: { dim_value = 1,
// dim_param = 2 } } } }
void read_tensor_type(ProtoReader r, ValueInfo& v) {
    ProtoField f;
    while (r.next(f)) {
        if (f.number == 1) {
            v.elem_type = int(r.as_int64(f));
        } else if (f.number == 2) {
            v.has_shape = true;
            ProtoReader shape = r.as_message(f, "shape");
            ProtoField d;
            while (shape.next(d)) {
                if (d.number != 1) continue;
                ProtoReader dim = shape.as_message(d, "dim");
                std::int64_t value = -1;
                ProtoField df;
                while (dim.next(df))
                    if (df.number == 1) value = dim.as_int64(df);
                v.dims.push_back(value);
            }
        }
    }
}

ValueInfo read_value_info(ProtoReader r) {
    ValueInfo v;
    ProtoField f;
    while (r.next(f)) {
        if (f.number == 1) {
            v.name = r.as_string(f);
        } else if (f.number == 2) {
            ProtoReader type = r.as_message(f, "type");
            ProtoField tf;
            while (type.next(tf))
                if (tf.number == 1) read_tensor_type(type.as_message(tf, "tensor_type"), v);
        }
    }
    return v;
}

Graph read_graph(ProtoReader r) {
    Graph g;
    ProtoField f;
    while (r.next(f)) {
        switch (f.number) {
            case 1: g.nodes.push_back(read_node(r.as_message(f, "node"))); break;
            case 2: g.name = r.as_string(f); break;
            case 5: g.initializers.push_back(read_tensor(r.as_message(f, "initializer"))); break;
            case 11: g.inputs.push_back(read_value_info(r.as_message(f, "input"))); break;
            case 12: g.outputs.push_back(read_value_info(r.as_message(f, "output"))); break;
            default: break;
        }
    }
    return g;
}

// OperatorSetIdProto { domain = 1, version = 2 }
void read_opset(ProtoReader r, Model& m) {
    std::string domain;
    std::int64_t version = 0;
    ProtoField f;
    while (r.next(f)) {
        if (f.number == 1) domain = r.as_string(f);
        if (f.number == 2) version = r.as_int64(f);
    }
    if (domain.empty() || domain == "ai.onnx") m.opset = version;
}

// StringStringEntryProto { key = 1, value = 2 }
std::pair<std::string, std::string> read_string_entry(ProtoReader r) {
    std::pair<std::string, std::string> entry;
    ProtoField f;
    while (r.next(f)) {
        if (f.number == 1) entry.first = r.as_string(f);
        if (f.number == 2) entry.second = r.as_string(f);
    }
    return entry;
}

}  // namespace

std::int64_t Tensor::element_count() const {
    std::int64_t count = 1;
    for (const std::int64_t d : dims) count *= d;
    return count;
}

const Attribute* Node::find(const std::string& attribute) const {
    for (const Attribute& a : attributes)
        if (a.name == attribute) return &a;
    return nullptr;
}

std::int64_t Node::int_or(const std::string& attribute, std::int64_t fallback) const {
    const Attribute* a = find(attribute);
    return a ? a->i : fallback;
}

float Node::float_or(const std::string& attribute, float fallback) const {
    const Attribute* a = find(attribute);
    return a ? a->f : fallback;
}

std::string Node::string_or(const std::string& attribute, const std::string& fallback) const {
    const Attribute* a = find(attribute);
    return a ? a->s : fallback;
}

std::vector<std::int64_t> Node::ints_or(const std::string& attribute,
                                        std::vector<std::int64_t> fallback) const {
    const Attribute* a = find(attribute);
    return a ? a->ints : fallback;
}

bool ValueInfo::has_symbolic_dim() const {
    for (const std::int64_t d : dims)
        if (d < 0) return true;
    return false;
}

Tensor parse_tensor(const std::uint8_t* data, std::size_t size, const std::string& context) {
    return read_tensor(ProtoReader(data, size, context));
}

Model parse_model(const std::uint8_t* data, std::size_t size, const std::string& context) {
    ProtoReader r(data, size, context);
    Model m;
    bool has_graph = false;
    ProtoField f;
    while (r.next(f)) {
        switch (f.number) {
            case 1: m.ir_version = r.as_int64(f); break;
            case 2: m.producer_name = r.as_string(f); break;
            case 6: m.doc_string = r.as_string(f); break;
            case 7:
                m.graph = read_graph(r.as_message(f, "graph"));
                has_graph = true;
                break;
            case 8: read_opset(r.as_message(f, "opset_import"), m); break;
            case 14: m.metadata_props.push_back(read_string_entry(r.as_message(f, "metadata_props"))); break;
            default: break;
        }
    }
    if (!has_graph) throw Error(context + ": not an ONNX model (no graph)");
    return m;
}

Tensor read_tensor_file(const std::string& path) {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path);
    return parse_tensor(bytes.data(), bytes.size(), path);
}

Model read_model_file(const std::string& path) {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path);
    return parse_model(bytes.data(), bytes.size(), path);
}

}  // namespace tinception::onnx
