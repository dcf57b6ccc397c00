// XXH64, a fast 64-bit checksum for damage detection (not security): four independent lanes
// over 32-byte stripes, several times the rate of the table-driven CRC-32 (bench/README.md), so
// the packed-weights cache can check what it maps at every start.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tinception {

std::uint64_t xxh64(const void* data, std::size_t size_bytes, std::uint64_t seed = 0);

}  // namespace tinception
