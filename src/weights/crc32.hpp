// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), the checksum of the .tcw format.
// Incremental: pass the previous result as `crc` to continue over more bytes.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tinception {

// crc32("123456789") == 0xCBF43926.
std::uint32_t crc32(const void* data, std::size_t size_bytes, std::uint32_t crc = 0);

}  // namespace tinception
