// Protobuf wire-format walking with every length and offset checked against the buffer.
#include "protobuf_reader.hpp"

#include <cstring>

#include "error.hpp"

namespace tinception::onnx {
namespace {

const char* wire_name(WireType wire) {
    switch (wire) {
        case WireType::varint: return "varint";
        case WireType::fixed64: return "fixed64";
        case WireType::length_delimited: return "length-delimited";
        case WireType::fixed32: return "fixed32";
    }
    return "unknown";
}

}  // namespace

float float_from_le(const std::uint8_t* p) {
    const std::uint32_t bits = std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 |
                               std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

ProtoReader::ProtoReader(const std::uint8_t* data, std::size_t size, std::string context)
    : data_(data), size_(size), context_(std::move(context)) {
    if (!data_ && size_) fail("null buffer with a non-zero size");
}

void ProtoReader::fail(const std::string& what) const {
    throw Error(context_ + ": malformed protobuf at byte " + std::to_string(pos_) + " of " +
                std::to_string(size_) + ": " + what);
}

std::uint64_t ProtoReader::read_varint(std::size_t& pos, std::size_t end) const {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= end) fail("varint runs past the end of the message");
        const std::uint8_t byte = data_[pos++];
        if (shift == 63 && (byte & 0x7e)) fail("varint overflows 64 bits");
        value |= std::uint64_t(byte & 0x7f) << shift;
        if (!(byte & 0x80)) return value;
    }
    fail("varint longer than 10 bytes");
}

bool ProtoReader::next(ProtoField& field) {
    if (pos_ >= size_) return false;
    const std::uint64_t key = read_varint(pos_, size_);
    const std::uint64_t number = key >> 3;
    if (number == 0 || number > 0x1fffffff) fail("field number " + std::to_string(number) + " is out of range");
    field = ProtoField{};
    field.number = std::uint32_t(number);
    switch (key & 7) {
        case 0:
            field.wire = WireType::varint;
            field.value = read_varint(pos_, size_);
            break;
        case 1:
            field.wire = WireType::fixed64;
            if (size_ - pos_ < 8) fail("fixed64 field runs past the end of the message");
            for (int i = 0; i < 8; ++i) field.value |= std::uint64_t(data_[pos_ + i]) << (8 * i);
            pos_ += 8;
            break;
        case 2: {
            field.wire = WireType::length_delimited;
            const std::uint64_t length = read_varint(pos_, size_);
            if (length > size_ - pos_)
                fail("field " + std::to_string(number) + " claims " + std::to_string(length) +
                     " bytes but only " + std::to_string(size_ - pos_) + " remain");
            field.bytes = data_ + pos_;
            field.size = std::size_t(length);
            pos_ += field.size;
            break;
        }
        case 5:
            field.wire = WireType::fixed32;
            if (size_ - pos_ < 4) fail("fixed32 field runs past the end of the message");
            for (int i = 0; i < 4; ++i) field.value |= std::uint64_t(data_[pos_ + i]) << (8 * i);
            pos_ += 4;
            break;
        default:
            fail("unsupported wire type " + std::to_string(key & 7) + " for field " +
                 std::to_string(number));
    }
    return true;
}

void ProtoReader::expect_wire(const ProtoField& f, WireType wire) const {
    if (f.wire != wire)
        fail("field " + std::to_string(f.number) + " should be " + wire_name(wire) + ", found " +
             wire_name(f.wire));
}

std::int64_t ProtoReader::as_int64(const ProtoField& f) const {
    expect_wire(f, WireType::varint);
    return std::int64_t(f.value);
}

float ProtoReader::as_float(const ProtoField& f) const {
    expect_wire(f, WireType::fixed32);
    const std::uint32_t bits = std::uint32_t(f.value);
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

std::string ProtoReader::as_string(const ProtoField& f) const {
    expect_wire(f, WireType::length_delimited);
    return std::string(reinterpret_cast<const char*>(f.bytes), f.size);
}

ProtoReader ProtoReader::as_message(const ProtoField& f, const std::string& what) const {
    expect_wire(f, WireType::length_delimited);
    return ProtoReader(f.bytes, f.size, context_ + " > " + what);
}

void ProtoReader::append_int64s(const ProtoField& f, std::vector<std::int64_t>& out) const {
    if (f.wire == WireType::varint) {
        out.push_back(std::int64_t(f.value));
        return;
    }
    expect_wire(f, WireType::length_delimited);
    ProtoReader packed(f.bytes, f.size, context_ + " > packed field " + std::to_string(f.number));
    while (packed.pos_ < packed.size_) out.push_back(std::int64_t(packed.read_varint(packed.pos_, packed.size_)));
}

void ProtoReader::append_floats(const ProtoField& f, std::vector<float>& out) const {
    if (f.wire == WireType::fixed32) {
        out.push_back(as_float(f));
        return;
    }
    expect_wire(f, WireType::length_delimited);
    if (f.size % 4 != 0)
        fail("packed float field " + std::to_string(f.number) + " has " + std::to_string(f.size) +
             " bytes, not a multiple of 4");
    for (std::size_t i = 0; i < f.size; i += 4) out.push_back(float_from_le(f.bytes + i));
}

}  // namespace tinception::onnx
