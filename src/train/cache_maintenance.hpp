// Whole-cache operations for the bottleneck cache at scale: listing, checking, statistics,
// merging caches made on machines without a shared file system, and pruning. Single
// entries are read and written by bottleneck_cache.hpp; nothing here computes features.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "train/bottleneck_cache.hpp"

namespace tinception {

// Every entry file of a cache folder: `*.bnc` in its two-hex-digit sub-folders and, from the
// older flat layout, in the folder itself; sorted. Temporary files are never listed.
// Throws Error naming the folder when it is missing or cannot be listed.
std::vector<std::string> list_cache_entries(const std::string& directory);

// What `check_cache_entry` found in one file.
struct CacheEntryCheck {
    bool ok = false;
    std::string problem;          // why it is damaged, when !ok
    BottleneckKey key;            // valid when ok
    std::uint64_t size_bytes = 0;
};

// Reads and fully checks one entry file, including that its name is its key's.
CacheEntryCheck check_cache_entry(const std::string& path);

struct CacheGroup {
    std::size_t entries = 0;
    std::uint64_t bytes = 0;
};
// (layer, weights checksum, feature size)
using CacheGroupKey = std::tuple<std::string, std::uint32_t, int>;

struct CacheReport {
    std::size_t entries = 0;  // good ones
    std::uint64_t bytes = 0;
    std::size_t flat_entries = 0;  // good ones still in the older flat layout
    std::map<CacheGroupKey, CacheGroup> groups;
    std::vector<std::string> damaged;  // "<path>: <problem>"
};

// Checks every entry (cache verify and cache stats). `progress` gets the count done.
CacheReport scan_cache(const std::string& directory, const std::function<void(std::size_t done, std::size_t total)>& progress = {});

struct MergeResult {
    std::size_t copied = 0;
    std::size_t already_present = 0;     // the destination held the same bytes
    std::size_t kept_different = 0;      // the destination held a good, different entry for the key
    std::size_t replaced_damaged = 0;    // the destination's entry was damaged and was overwritten
    std::vector<std::string> damaged;    // source entries refused: "<path>: <problem>"
};

// Copies every good entry of each source into `destination` (created if needed) in the
// sub-folder layout, atomically, reading each copy back and comparing it byte for byte.
// Damaged source entries are reported, never copied. Throws Error when a source cannot be
// listed or a copy does not read back the same.
MergeResult merge_caches(const std::vector<std::string>& sources, const std::string& destination,
                         const std::function<void(std::size_t done, std::size_t total)>& progress = {});

struct PruneOptions {
    std::optional<std::uint32_t> weights_checksum;  // remove entries made with these weights
    std::optional<double> older_than_days;          // remove entries last written longer ago
    bool damaged = false;                           // remove damaged entries
    bool dry_run = false;                           // count, remove nothing
};

struct PruneResult {
    std::size_t removed = 0;
    std::uint64_t removed_bytes = 0;
    std::size_t kept = 0;
};

// Removes the entries that match any of the options' criteria. Throws Error when the
// folder cannot be listed, no criterion is given, or a file cannot be removed.
PruneResult prune_cache(const std::string& directory, const PruneOptions& options);

}  // namespace tinception
