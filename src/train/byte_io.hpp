// Little-endian encoding of integers, floats and strings into a byte buffer and back,
// for the model file and the bottleneck cache. Reading past the end throws Error.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "error.hpp"

namespace tinception {

class ByteWriter {
public:
    void u8(std::uint8_t v) { bytes_.push_back(v); }
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes_.push_back(std::uint8_t(v >> (8 * i)));
    }
    void u64(std::uint64_t v) {
        for (int i = 0; i < 8; ++i) bytes_.push_back(std::uint8_t(v >> (8 * i)));
    }
    void f32(float v) {
        std::uint32_t bits;
        std::memcpy(&bits, &v, 4);
        u32(bits);
    }
    void floats(const float* v, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) f32(v[i]);
    }
    void raw(const void* data, std::size_t n) {
        const auto* p = static_cast<const std::uint8_t*>(data);
        bytes_.insert(bytes_.end(), p, p + n);
    }
    // u32 length, then the bytes (no terminator).
    void string(const std::string& s) {
        u32(std::uint32_t(s.size()));
        raw(s.data(), s.size());
    }
    std::vector<std::uint8_t>& bytes() { return bytes_; }

private:
    std::vector<std::uint8_t> bytes_;
};

class ByteReader {
public:
    // `name` goes into error messages ("<name>: truncated: ...").
    ByteReader(const std::uint8_t* data, std::size_t size, std::string name)
        : data_(data), size_(size), name_(std::move(name)) {}

    std::size_t position() const { return pos_; }
    std::size_t remaining() const { return size_ - pos_; }

    std::uint8_t u8() { return *take(1, "a byte"); }
    std::uint32_t u32() {
        const std::uint8_t* p = take(4, "a 32-bit integer");
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= std::uint32_t(p[i]) << (8 * i);
        return v;
    }
    std::uint64_t u64() {
        const std::uint8_t* p = take(8, "a 64-bit integer");
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= std::uint64_t(p[i]) << (8 * i);
        return v;
    }
    float f32() {
        const std::uint32_t bits = u32();
        float v;
        std::memcpy(&v, &bits, 4);
        return v;
    }
    void floats(float* out, std::size_t n) {
        if (n > remaining() / 4) fail(std::to_string(n) + " floats");
        for (std::size_t i = 0; i < n; ++i) out[i] = f32();
    }
    // Strings longer than max_size are refused before any allocation.
    std::string string(std::size_t max_size) {
        const std::uint32_t n = u32();
        if (n > max_size)
            throw Error(name_ + ": string of " + std::to_string(n) + " bytes is longer than the limit of " +
                        std::to_string(max_size) + "; the file is corrupt");
        const std::uint8_t* p = take(n, "a string of " + std::to_string(n) + " bytes");
        return std::string(reinterpret_cast<const char*>(p), n);
    }
    const std::uint8_t* take(std::size_t n, const std::string& what) {
        if (n > remaining()) fail(what);
        const std::uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw Error(name_ + ": file is truncated: expected " + what + " at byte " + std::to_string(pos_) +
                    " but only " + std::to_string(remaining()) + " bytes remain");
    }

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    std::string name_;
};

}  // namespace tinception
