// A directory of cached bottleneck features, one file per (image content, layer, weights,
// feature size). Entries are checked on every load and never trusted when they disagree.
//
// Entry file `<first 2 of the 16 hex digits>/<16 hex digits of FNV-1a 64 of the key>.bnc`
// (256 sub-folders, so a million entries never sit in one folder; entries of the older
// flat layout, directly in the folder, are still read), little-endian:
//   8  magic "TBNC\r\n\x1a\n"     4  format version (1, or 2 when the key has a decode variant)
//   8  image content hash          4  weights checksum     4  feature size
//   4+n layer name                 version 2 only: 4+n decode variant
//   4  float count                 4  CRC-32 (weights/crc32.hpp) of the float bytes
//   4*count floats (binary32)      and nothing after them.
// An entry without a decode variant (an image decoded at its stored size) is written as
// version 1 under the name it always had, so caches of earlier builds stay valid both ways.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tinception {

struct BottleneckKey {
    std::uint64_t content_hash = 0;     // image_content_hash of the image file's bytes
    std::string layer;                  // feature layer name
    std::uint32_t weights_checksum = 0; // FeatureExtractor::weights_checksum()
    int feature_size = 0;
    std::string decode;                 // decode_variant(): "" at stored size, "jpeg-dc-dct-scaled";
                                        // then precision_variant() and "mirrored", comma-separated
};

// FNV-1a 64 (see hashing.hpp) over the file's bytes: the same image under another name or
// folder hits the same entry; any edit to the file misses.
std::uint64_t image_content_hash(const std::uint8_t* data, std::size_t size);
std::uint64_t image_content_hash_of_file(const std::string& path);

// One decoded entry file.
struct BottleneckEntry {
    BottleneckKey key;
    std::vector<float> features;
};

// The bytes of an entry file for `key` (features.size() must equal key.feature_size).
std::vector<std::uint8_t> encode_bottleneck_entry(const BottleneckKey& key, const std::vector<float>& features);

// Decodes and checks an entry file's bytes: magic, version, sizes, CRC. Throws Error
// naming `path` and what is wrong.
BottleneckEntry decode_bottleneck_entry(const std::vector<std::uint8_t>& bytes, const std::string& path);

// "<16 hex digits>.bnc", the file name of the key's entry.
std::string bottleneck_entry_name(const BottleneckKey& key);

class BottleneckCache {
public:
    // Creates the directory if needed; throws Error naming it when that fails.
    explicit BottleneckCache(std::string directory);

    const std::string& directory() const { return directory_; }
    std::string entry_path(const BottleneckKey& key) const;
    std::string flat_entry_path(const BottleneckKey& key) const;  // the older layout's place

    // Nothing when the entry is missing, unreadable, for another key, truncated, or fails
    // its CRC; the caller then recomputes and stores.
    std::optional<std::vector<float>> load(const BottleneckKey& key) const;

    // Writes the entry atomically (write_file_atomically) at entry_path, creating its
    // sub-folder. features.size() must equal key.feature_size.
    void store(const BottleneckKey& key, const std::vector<float>& features) const;

private:
    std::string directory_;
};

}  // namespace tinception
