// XXH64 as its specification gives it: the round (multiply, rotate, multiply) in four lanes,
// folded together with the length, then the tail a word, a 4-byte word and a byte at a time,
// then an avalanche. test_xxh64.cpp checks it against the published values.
#include "weights/xxh64.hpp"

#include <cstring>

namespace tinception {
namespace {

constexpr std::uint64_t kPrime1 = 0x9E3779B185EBCA87ull;
constexpr std::uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;
constexpr std::uint64_t kPrime3 = 0x165667B19E3779F9ull;
constexpr std::uint64_t kPrime4 = 0x85EBCA77C2B2AE63ull;
constexpr std::uint64_t kPrime5 = 0x27D4EB2F165667C5ull;

std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Little-endian word; the weight reader refuses big-endian hosts, so this is a plain load.
std::uint64_t word(const unsigned char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

std::uint64_t round(std::uint64_t acc, std::uint64_t input) { return rotl(acc + input * kPrime2, 31) * kPrime1; }

std::uint64_t merge(std::uint64_t acc, std::uint64_t lane) { return (acc ^ round(0, lane)) * kPrime1 + kPrime4; }

}  // namespace

std::uint64_t xxh64(const void* data, std::size_t size_bytes, std::uint64_t seed) {
    const auto* p = static_cast<const unsigned char*>(data);
    const unsigned char* const end = p + size_bytes;
    std::uint64_t h;
    if (size_bytes >= 32) {
        std::uint64_t a = seed + kPrime1 + kPrime2, b = seed + kPrime2, c = seed, d = seed - kPrime1;
        for (; end - p >= 32; p += 32) {
            a = round(a, word(p));
            b = round(b, word(p + 8));
            c = round(c, word(p + 16));
            d = round(d, word(p + 24));
        }
        h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18);
        h = merge(merge(merge(merge(h, a), b), c), d);
    } else {
        h = seed + kPrime5;
    }
    h += std::uint64_t(size_bytes);
    for (; end - p >= 8; p += 8) h = rotl(h ^ round(0, word(p)), 27) * kPrime1 + kPrime4;
    if (end - p >= 4) {
        std::uint32_t v;
        std::memcpy(&v, p, 4);
        h = rotl(h ^ (std::uint64_t(v) * kPrime1), 23) * kPrime2 + kPrime3;
        p += 4;
    }
    for (; p < end; ++p) h = rotl(h ^ (*p * kPrime5), 11) * kPrime1;
    h ^= h >> 33;
    h *= kPrime2;
    h ^= h >> 29;
    h *= kPrime3;
    h ^= h >> 32;
    return h;
}

}  // namespace tinception
