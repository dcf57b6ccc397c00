// The packed-weights cache file (.tcp): the conv2d layers networks have asked for, in one kernel
// table's layout (Winograd-transformed where the table does that), written by the run that
// packed them and mapped by later runs so they pack nothing. Format, all integers little-endian:
//   header (120 bytes, padded to 128): magic "TCPACK\r\n", version, header size, the weight file's checksum,
//     table name (16 bytes, zero-padded), packing fingerprint, the weight file's identity when
//     its data was verified (device, inode, size, modification and change times in ns), entry
//     count, data offset, trailer offset, file size, XXH64 of the bytes before it
//   data: each entry's packed bytes from a 64-byte boundary
//   trailer: per entry layer index (u32), zero (u32), offset, size, XXH64 of its bytes; then
//     XXH64 of the entries
// An entry's own XXH64 is checked the first time a network asks for it, so a run reads only
// the layers it uses.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel_table.hpp"
#include "weights/mapped_file.hpp"

namespace tinception {

class LayerGraph;

// What a cache file must match to be used: weights (by checksum), table, how the table packs
// (packing_fingerprint), and the very weight file whose data was verified when it was built.
struct PackedCacheKey {
    std::uint32_t weights_checksum = 0;
    std::string table_name;
    std::uint64_t fingerprint = 0;
    FileIdentity weights_identity;
    // An 8-bit weight file (format 3) has its float32 file's checksum; its cache is kept apart,
    // so alternating between the two files maps each one's cache instead of rebuilding one.
    bool weights_8bit = false;
};

// XXH64 over the table's name and panel width, each conv2d layer's path, packed size and row
// alignment, and the bytes the table packs for a small copy of one layer of each kind
// (kernel, stride, path): a build that packs differently gets another cache file.
std::uint64_t packing_fingerprint(const LayerGraph& graph, const kernels::KernelTable& table);

// "<checksum>-<table>-<fingerprint>.tcp" ("...-u8.tcp" for an 8-bit file): one file per key but
// the identity, so a weight file rewritten in place replaces its stale cache rather than adding one.
std::string packed_cache_file_name(const PackedCacheKey& key);

// default_cache_dir("packed"): ~/.cache/tinception/packed, next to the bottleneck cache.
std::string default_packed_cache_dir();

struct PackedCacheEntry {
    std::uint32_t layer = 0;
    std::uint64_t offset = 0, size = 0, hash = 0;
};

// One layer to write: its packed bytes, and their XXH64 when it is already known (bytes copied
// from another cache file keep the hash recorded there, so damage in them is not blessed).
struct PackedLayerBytes {
    std::uint32_t layer = 0;
    const void* bytes = nullptr;
    std::uint64_t size = 0;
    std::optional<std::uint64_t> hash;
};

class PackedCacheFile {
public:
    // Maps `path` and checks its header, key, sizes and trailer. Null, with the reason in
    // `why_not`, when the file is missing, stale or damaged: the caller rebuilds it. Never throws
    // for what the file holds.
    static std::unique_ptr<PackedCacheFile> open(const std::string& path, const PackedCacheKey& key,
                                                 std::string* why_not);

    // Layer `layer`'s packed bytes when the file holds them with `size` bytes and their XXH64
    // matches (checked on the first call per entry; not thread-safe: the caller locks). Null
    // when absent; sets *damaged when present but wrong.
    const void* layer(int layer, std::size_t size, bool* damaged);
    // Checks the XXH64 of the entries of `layers` not checked yet, across the thread pool (the
    // layers a network is about to ask for: at start-up, hashing them one by one was a good
    // part of a one-image run's time). An entry that does not match stays unchecked, for
    // layer() to report. Not thread-safe, like layer().
    void check_layers(const std::vector<int>& layers);
    std::size_t entry_count() const { return entries_.size(); }
    // Every entry's bytes as stored, with its recorded hash (unchecked), in layer order.
    std::vector<PackedLayerBytes> stored_layers() const;

private:
    MappedFile mapping_;
    std::vector<PackedCacheEntry> entries_;
    std::vector<int> entry_of_layer_;  // -1: none
    std::vector<char> checked_;        // by entry: hash verified
};

// Writes `layers` (distinct layers, in any order; stored in layer order) as the cache file for
// `key`, atomically (a temporary name renamed into place). Throws Error when it cannot be written.
void write_packed_cache(const std::string& path, const PackedCacheKey& key, std::vector<PackedLayerBytes> layers);

// A run's save: `fresh` (the layers it packed) and the entries of `old` (null: none) that
// `fresh` does not replace and that are not marked in `damaged` (by layer index), written by
// write_packed_cache for `key` with the weight file's identity of now, its folder created
// first. The caller keeps `old` mapped (its layers may still be in use) and has checked the
// weights' data. Returns why nothing was written, or an empty string: a cache file that
// cannot be written is no error.
std::string save_packed_layers(const std::string& path, PackedCacheKey key, const FileIdentity& identity,
                               std::vector<PackedLayerBytes> fresh, const PackedCacheFile* old,
                               const std::vector<char>& damaged = {});

}  // namespace tinception
