// Big- and little-endian integers read from a byte buffer (image headers and JPEG segments).
#pragma once

#include <cstdint>

namespace tinception::bytes {

inline std::uint32_t be16(const std::uint8_t* p) { return std::uint32_t(p[0]) << 8 | p[1]; }
inline std::uint32_t be32(const std::uint8_t* p) { return be16(p) << 16 | be16(p + 2); }
inline std::uint32_t le16(const std::uint8_t* p) { return std::uint32_t(p[1]) << 8 | p[0]; }
inline std::int32_t le32(const std::uint8_t* p) { return std::int32_t(le16(p + 2) << 16 | le16(p)); }

}  // namespace tinception::bytes
