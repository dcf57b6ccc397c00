// Constants of the .tcw layout shared by the reader and the writer (spec: weights/FORMAT.md).
// Only numbers and names here; parsing lives in weight_file.cpp, writing in weight_file_writer.cpp.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tinception::tcw {

inline constexpr std::uint8_t kMagic[8] = {0x54, 0x43, 0x57, 0x0D, 0x0A, 0x1A, 0x0A, 0x00};
// Format 2: the second checksum covers the table (graph, metadata) and the data, not the data
// alone, so a trained model's record of it pins the whole network. Format 1 files are re-converted.
// Format 3 adds uint8 tensors (value = min + scale * q) and batch normalisations folded at load;
// files without either are still written as format 2.
inline constexpr std::uint32_t kOldestFormat = 2;
inline constexpr std::uint32_t kFloat32Format = 2;
inline constexpr std::uint32_t kNewestFormat = 3;
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
inline constexpr std::uint8_t kDtypeUint8 = 2;  // format 3: f64 scale and f64 min follow the entry's size

// Format 3 names: a conv2d's string attribute holding the epsilon of the batch normalisation
// to fold into it at load, and the metadata key with the checksum of the float32 (format 2)
// file the 8-bit file expands to, which is what checksum() gives for it.
inline constexpr const char* kBatchNormEpsilon = "batch_norm_epsilon";
inline constexpr const char* kFloat32Checksum = "float32_checksum";

}  // namespace tinception::tcw
