// Little-endian integers, floats and strings in byte buffers: the one encoder behind the
// weight file, the classifier file and the bottleneck cache. Reading past the end throws Error.
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "error.hpp"

namespace tinception {

namespace byte_io_detail {
template <std::size_t N> struct Bits;
template <> struct Bits<1> { using type = std::uint8_t; };
template <> struct Bits<2> { using type = std::uint16_t; };
template <> struct Bits<4> { using type = std::uint32_t; };
template <> struct Bits<8> { using type = std::uint64_t; };
}  // namespace byte_io_detail

// T is an integer or float; the bytes are little-endian whatever the host's order.
template <typename T>
T load_le(const std::uint8_t* p) {
    static_assert(std::is_arithmetic_v<T>, "load_le reads numbers");
    using U = typename byte_io_detail::Bits<sizeof(T)>::type;
    U bits = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) bits = U(bits | U(U(p[i]) << (8 * i)));
    T v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

template <typename T>
void store_le(std::uint8_t* p, T v) {
    static_assert(std::is_arithmetic_v<T>, "store_le writes numbers");
    using U = typename byte_io_detail::Bits<sizeof(T)>::type;
    U bits;
    std::memcpy(&bits, &v, sizeof v);
    for (std::size_t i = 0; i < sizeof(T); ++i) p[i] = std::uint8_t(bits >> (8 * i));
}

// "0x0123abcd": how checksums are shown in messages.
inline std::string hex32(std::uint32_t v) {
    static const char digits[] = "0123456789abcdef";
    std::string s = "0x";
    for (int shift = 28; shift >= 0; shift -= 4) s += digits[(v >> shift) & 0xFu];
    return s;
}

class ByteWriter {
public:
    template <typename T>
    void number(T v) {
        std::uint8_t b[sizeof(T)];
        store_le(b, v);
        bytes_.insert(bytes_.end(), b, b + sizeof b);
    }
    void u8(std::uint8_t v) { number(v); }
    void u32(std::uint32_t v) { number(v); }
    void u64(std::uint64_t v) { number(v); }
    void f32(float v) { number(v); }
    void floats(const float* v, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) f32(v[i]);
    }
    void raw(const void* data, std::size_t n) {
        const auto* p = static_cast<const std::uint8_t*>(data);
        bytes_.insert(bytes_.end(), p, p + n);
    }
    // A u16 or u32 byte count, then the bytes (no terminator). Callers check u16 lengths
    // themselves, so the message can name the field.
    void text16(const std::string& s) {
        number(std::uint16_t(s.size()));
        raw(s.data(), s.size());
    }
    void string(const std::string& s) {
        if (s.size() > std::numeric_limits<std::uint32_t>::max()) throw Error("a string is longer than 4 GiB");
        u32(std::uint32_t(s.size()));
        raw(s.data(), s.size());
    }
    std::vector<std::uint8_t>& bytes() { return bytes_; }

private:
    std::vector<std::uint8_t> bytes_;
};

class ByteReader {
public:
    // `name` goes into error messages ("<name>: truncated or damaged: expected ...").
    ByteReader(const std::uint8_t* data, std::size_t size, std::string name)
        : data_(data), size_(size), name_(std::move(name)) {}

    std::size_t position() const { return pos_; }
    std::size_t remaining() const { return size_ - pos_; }

    // `what` names the field in the message when the bytes run out.
    template <typename T>
    T number(const std::string& what) {
        return load_le<T>(take(sizeof(T), what));
    }
    std::uint8_t u8() { return number<std::uint8_t>("a byte"); }
    std::uint32_t u32() { return number<std::uint32_t>("a 32-bit integer"); }
    std::uint64_t u64() { return number<std::uint64_t>("a 64-bit integer"); }
    float f32() { return number<float>("a float"); }
    void floats(float* out, std::size_t n) {
        if (n > remaining() / 4) fail(std::to_string(n) + " floats");
        for (std::size_t i = 0; i < n; ++i) out[i] = f32();
    }
    std::string text16(const std::string& what) { return text(number<std::uint16_t>(what), what); }
    std::string text32(const std::string& what) { return text(number<std::uint32_t>(what), what); }
    // A u32-counted string; one longer than max_size is refused before any allocation.
    std::string string(std::size_t max_size) {
        const std::uint32_t n = u32();
        if (n > max_size)
            throw Error(name_ + ": string of " + std::to_string(n) + " bytes is longer than the limit of " +
                        std::to_string(max_size) + "; the file is corrupt");
        return text(n, "a string of " + std::to_string(n) + " bytes");
    }
    const std::uint8_t* take(std::size_t n, const std::string& what) {
        if (n > remaining()) fail(what);
        const std::uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }

private:
    std::string text(std::size_t n, const std::string& what) {
        const std::uint8_t* p = take(n, what);
        return std::string(reinterpret_cast<const char*>(p), n);
    }
    [[noreturn]] void fail(const std::string& what) const {
        throw Error(name_ + ": truncated or damaged: expected " + what + " at byte " + std::to_string(pos_) +
                    " but only " + std::to_string(remaining()) + " bytes remain");
    }

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    std::string name_;
};

}  // namespace tinception
