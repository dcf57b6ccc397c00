// Protobuf encoding: base-128 varints, field keys (number << 3 | wire type) and length
// prefixes; the length of a nested message is known because every chunk's size is.
#include "export/protobuf_writer.hpp"

namespace tinception {
namespace {

constexpr int kWireVarint = 0;
constexpr int kWireLengthDelimited = 2;

}  // namespace

std::vector<std::uint8_t>& ProtoMessage::tail() {
    if (chunks_.empty() || chunks_.back().view) chunks_.emplace_back();
    return chunks_.back().owned;
}

void ProtoMessage::append_varint(std::uint64_t value) {
    std::vector<std::uint8_t>& out = tail();
    do {
        std::uint8_t byte = value & 0x7f;
        value >>= 7;
        if (value) byte |= 0x80;
        out.push_back(byte);
        ++size_;
    } while (value);
}

void ProtoMessage::append_key(std::uint32_t number, int wire_type) {
    append_varint(std::uint64_t(number) << 3 | std::uint64_t(wire_type));
}

void ProtoMessage::varint_field(std::uint32_t number, std::uint64_t value) {
    append_key(number, kWireVarint);
    append_varint(value);
}

void ProtoMessage::string_field(std::uint32_t number, const std::string& bytes) {
    append_key(number, kWireLengthDelimited);
    append_varint(bytes.size());
    std::vector<std::uint8_t>& out = tail();
    out.insert(out.end(), bytes.begin(), bytes.end());
    size_ += bytes.size();
}

void ProtoMessage::message_field(std::uint32_t number, ProtoMessage&& message) {
    append_key(number, kWireLengthDelimited);
    append_varint(message.size_);
    for (Chunk& chunk : message.chunks_) {
        if (chunk.view) {
            chunks_.push_back(std::move(chunk));
        } else {
            std::vector<std::uint8_t>& out = tail();
            out.insert(out.end(), chunk.owned.begin(), chunk.owned.end());
        }
    }
    size_ += message.size_;
    message.chunks_.clear();
    message.size_ = 0;
}

void ProtoMessage::viewed_bytes_field(std::uint32_t number, const void* data, std::size_t size) {
    append_key(number, kWireLengthDelimited);
    append_varint(size);
    if (size == 0) return;
    Chunk chunk;
    chunk.view = static_cast<const std::uint8_t*>(data);
    chunk.view_size = size;
    chunks_.push_back(std::move(chunk));
    size_ += size;
}

void ProtoMessage::write(const std::function<void(const void* data, std::size_t size)>& sink) const {
    for (const Chunk& chunk : chunks_) {
        if (chunk.view)
            sink(chunk.view, chunk.view_size);
        else if (!chunk.owned.empty())
            sink(chunk.owned.data(), chunk.owned.size());
    }
}

}  // namespace tinception
