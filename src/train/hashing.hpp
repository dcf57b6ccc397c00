// FNV-1a 64, the hash behind the dataset split and the bottleneck cache keys. Written here
// so its values never depend on a library version. CRC-32 comes from weights/crc32.hpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace tinception {

// FNV-1a, 64-bit: offset basis 0xcbf29ce484222325, prime 0x100000001b3, one byte at a
// time. Defined on bytes, so the value is the same on every platform and compiler.
std::uint64_t fnv1a_64(const void* data, std::size_t size,
                       std::uint64_t state = 0xcbf29ce484222325ULL);
inline std::uint64_t fnv1a_64(const std::string& text) { return fnv1a_64(text.data(), text.size()); }

}  // namespace tinception
