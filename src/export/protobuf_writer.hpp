// A protobuf wire-format writer for messages whose large byte fields stay where they are:
// a message is a list of chunks, small ones owned, large ones viewed, so a model's weights
// go from the weight file's mapping to the output file without a copy in memory.
// Knows no schema; onnx_proto.cpp gives the field numbers their meaning.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tinception {

class ProtoMessage {
public:
    void varint_field(std::uint32_t number, std::uint64_t value);
    void string_field(std::uint32_t number, const std::string& bytes);
    // Embeds `message` as a length-delimited field; its chunks move over, views included.
    void message_field(std::uint32_t number, ProtoMessage&& message);
    // A bytes field whose payload is not copied: [data, data + size) must stay valid and
    // unchanged until the message is written.
    void viewed_bytes_field(std::uint32_t number, const void* data, std::size_t size);

    std::size_t size() const { return size_; }

    // Hands the encoded message to `sink` in order, owned and viewed parts alike.
    void write(const std::function<void(const void* data, std::size_t size)>& sink) const;

private:
    struct Chunk {
        std::vector<std::uint8_t> owned;
        const std::uint8_t* view = nullptr;  // when set, the chunk is [view, view + view_size)
        std::size_t view_size = 0;
    };
    std::vector<std::uint8_t>& tail();
    void append_varint(std::uint64_t value);
    void append_key(std::uint32_t number, int wire_type);

    std::vector<Chunk> chunks_;
    std::size_t size_ = 0;
};

}  // namespace tinception
