// Constants of the .tcw layout shared by the reader and the writer (spec: weights/FORMAT.md).
// Only numbers and names here; parsing lives in weight_file.cpp, writing in weight_file_writer.cpp.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tinception::tcw {

inline constexpr std::uint8_t kMagic[8] = {0x54, 0x43, 0x57, 0x0D, 0x0A, 0x1A, 0x0A, 0x00};
// Format 2: the second checksum covers the table (graph, metadata) and the data, not the data
// alone, so a trained model's record of it pins the whole network. Format 1 files are re-converted.
inline constexpr std::uint32_t kOldestFormat = 2;
inline constexpr std::uint32_t kNewestFormat = 2;
inline constexpr std::uint32_t kDataAlignment = 64;

// Header field offsets; the header of format 2 is 68 bytes.
inline constexpr std::size_t kOffVersion = 8;
inline constexpr std::size_t kOffHeaderSize = 12;
inline constexpr std::size_t kOffTensorCount = 16;
inline constexpr std::size_t kOffAlignment = 20;
inline constexpr std::size_t kOffTableOffset = 24;
inline constexpr std::size_t kOffDataOffset = 32;
inline constexpr std::size_t kOffDataSize = 40;
inline constexpr std::size_t kOffFileSize = 48;
inline constexpr std::size_t kOffTableCrc = 56;
inline constexpr std::size_t kOffContentCrc = 60;  // CRC-32 of [table offset, file size)
inline constexpr std::size_t kOffHeaderCrc = 64;
inline constexpr std::size_t kHeaderSize = 68;

inline constexpr std::uint8_t kDtypeFloat32 = 1;

}  // namespace tinception::tcw
