// A bounds-checked reader of the protobuf wire format, enough for ONNX files: it walks the
// fields of one message. It knows nothing of .proto schemas; onnx_model.cpp assigns meaning.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tinception::onnx {

// IEEE-754 binary32 stored little-endian, as protobuf stores fixed32 and ONNX raw_data.
float float_from_le(const std::uint8_t* p);

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

// One field of a message. For length-delimited fields `bytes`/`size` view the payload inside
// the reader's buffer; for the others `value` holds the raw bits.
struct ProtoField {
    std::uint32_t number = 0;
    WireType wire = WireType::varint;
    std::uint64_t value = 0;
    const std::uint8_t* bytes = nullptr;
    std::size_t size = 0;
};

// Walks the fields of a message held in [data, data + size). Throws tinception::Error naming
// `context` and the byte offset when the bytes are not a well-formed message.
class ProtoReader {
public:
    ProtoReader(const std::uint8_t* data, std::size_t size, std::string context);

    // Reads the next field; false at the end of the message.
    bool next(ProtoField& field);

    const std::string& context() const { return context_; }

    // Typed views of the current field, checking the wire type matches.
    std::int64_t as_int64(const ProtoField& f) const;
    float as_float(const ProtoField& f) const;
    std::string as_string(const ProtoField& f) const;
    ProtoReader as_message(const ProtoField& f, const std::string& what) const;

    // Repeated scalars arrive either packed (one length-delimited field) or one per field;
    // these append either form.
    void append_int64s(const ProtoField& f, std::vector<std::int64_t>& out) const;
    void append_floats(const ProtoField& f, std::vector<float>& out) const;

    [[noreturn]] void fail(const std::string& what) const;

private:
    std::uint64_t read_varint(std::size_t& pos, std::size_t end) const;
    void expect_wire(const ProtoField& f, WireType wire) const;

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    std::string context_;
};

}  // namespace tinception::onnx
