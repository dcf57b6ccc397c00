// Baseline JPEG entropy decoding for the DC-only path (decode_jpeg_dc.cpp): Huffman tables
// built from a DHT segment, and a bit reader over entropy-coded data that undoes 0xFF00
// stuffing and stops at a marker. Inline, because the block loop calls them per symbol.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

namespace tinception::jpeg {

// Codes up to this many bits are decoded by one table lookup; longer ones (rare in photos)
// walk the canonical code lengths.
constexpr int kLookupBits = 10;

// One Huffman table in the forms the DC-only decoder needs.
struct HuffmanTable {
    // The next kLookupBits bits -> code length << 8 | symbol, 0 when the code is longer.
    std::array<std::uint16_t, 1 << kLookupBits> symbol_lookup{};
    // For AC tables, the next kLookupBits bits -> what skipping that coefficient takes:
    // bits to drop (code and magnitude) | zig-zag positions to advance << 5 (64 for
    // end-of-block), 0 when the code is longer or its symbol is invalid.
    std::array<std::uint16_t, 1 << kLookupBits> ac_skip{};
    // Canonical decoding: a code of length L is valid when <= max_code[L]; its symbol is
    // symbols[code + value_offset[L]]. max_code is -1 for lengths without codes.
    std::array<std::int32_t, 17> max_code{};
    std::array<std::int32_t, 17> value_offset{};
    std::array<std::uint8_t, 256> symbols{};
    int symbol_count = 0;
};

// Builds a table from a DHT entry: 16 counts of codes per length, then the symbols. Nothing
// when the counts overflow the code space or would give a code of all ones (both invalid).
// `ac` fills ac_skip too.
std::optional<HuffmanTable> build_huffman_table(const std::uint8_t (&counts)[16], const std::uint8_t* symbols,
                                                bool ac);

// Reads bits MSB first. Before each symbol the caller makes sure at least 27 bits are
// buffered (the longest code, 16 bits, plus the longest magnitude, 11); past a marker or the
// end of the data the reader appends zero bits and counts them, so finish() can tell a scan
// that needed more data than it had.
class BitReader {
public:
    BitReader(const std::uint8_t* data, const std::uint8_t* end) : p_(data), end_(end) {}

    std::uint64_t bits() const { return bits_; }
    int count() const { return count_; }
    void drop(int n) { bits_ <<= n; count_ -= n; }
    std::uint32_t take(int n) {  // 1..16 bits
        const auto value = std::uint32_t(bits_ >> (64 - n));
        drop(n);
        return value;
    }

    // Tops the buffer up to at least 57 bits.
    void refill() {
        if (count_ > 56) return;
        if (!at_marker_ && end_ - p_ >= 8) {
            std::uint64_t v;
            std::memcpy(&v, p_, 8);
            v = __builtin_bswap64(v);
            // No 0xFF among the eight bytes: no stuffing and no marker, take them whole.
            const std::uint64_t t = ~v;
            if (((t - 0x0101010101010101ULL) & ~t & 0x8080808080808080ULL) == 0) {
                bits_ |= v >> count_;
                const int bytes = (63 - count_) >> 3;
                p_ += bytes;
                count_ += bytes * 8;
                return;
            }
        }
        refill_bytewise();
    }

    // After a scan or a restart interval: the marker that follows (its second byte), or -1 when
    // the interval used bits it did not have, or left a byte or more unread before the marker.
    // Resets the reader to just after the marker.
    int finish_interval() {
        const int real_bits_left = count_ - zeros_appended_;
        // Used appended zeros: the data ran out. A whole byte unused: not what an encoder writes.
        if (real_bits_left < 0 || real_bits_left >= 8) return -1;
        if (end_ - p_ < 2 || p_[0] != 0xFF || p_[1] == 0x00) return -1;
        while (p_ < end_ && *p_ == 0xFF) ++p_;  // fill bytes before the marker
        if (p_ == end_) return -1;
        const int marker = *p_++;
        bits_ = 0;
        count_ = 0;
        zeros_appended_ = 0;
        at_marker_ = false;
        return marker;
    }

    const std::uint8_t* position() const { return p_; }

private:
    void refill_bytewise() {
        while (count_ <= 56) {
            std::uint64_t byte = 0;
            if (!at_marker_) {
                if (p_ < end_ && *p_ != 0xFF) {
                    byte = *p_++;
                } else if (end_ - p_ >= 2 && p_[1] == 0x00) {  // stuffed 0xFF
                    byte = 0xFF;
                    p_ += 2;
                } else {
                    at_marker_ = true;  // a marker, or the data ends: zeros from here on
                }
            }
            if (at_marker_) zeros_appended_ += 8;
            bits_ |= byte << (56 - count_);
            count_ += 8;
        }
    }

    const std::uint8_t* p_;
    const std::uint8_t* end_;
    std::uint64_t bits_ = 0;  // left-aligned; bits below count_ may hold the next byte's bits
    int count_ = 0;
    int zeros_appended_ = 0;  // bits appended past a marker or the end
    bool at_marker_ = false;  // p_ is at a marker (or the end): append zeros
};

}  // namespace tinception::jpeg
