// FNV-1a 64, byte-oriented so the value does not depend on the host's endianness.
#include "train/hashing.hpp"

namespace tinception {

std::uint64_t fnv1a_64(const void* data, std::size_t size, std::uint64_t state) {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    for (std::size_t i = 0; i < size; ++i) {
        state ^= bytes[i];
        state *= 0x100000001b3ULL;
    }
    return state;
}

}  // namespace tinception
