// Bottleneck cache folders at scale: the sub-folder layout and the older flat one, verify,
// stats, merge (with damaged entries on either side) and prune.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "error.hpp"
#include "file_io.hpp"
#include "temp_dir.hpp"
#include "train/cache_maintenance.hpp"

using namespace tinception;
using tinception::testing::TempDir;
namespace fs = std::filesystem;

namespace {

BottleneckKey key_of(std::uint64_t content, const std::string& layer = "mixed5", std::uint32_t weights = 0xabc,
                     int size = 4) {
    BottleneckKey key;
    key.content_hash = content;
    key.layer = layer;
    key.weights_checksum = weights;
    key.feature_size = size;
    return key;
}

std::vector<float> features_of(std::uint64_t content, int size = 4) {
    std::vector<float> f(static_cast<std::size_t>(size));
    for (int i = 0; i < size; ++i) f[std::size_t(i)] = float(content) * 0.5f + float(i);
    return f;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

// Fills a cache with entries for content hashes [first, last).
void fill(const BottleneckCache& cache, std::uint64_t first, std::uint64_t last) {
    for (std::uint64_t c = first; c < last; ++c) cache.store(key_of(c), features_of(c));
}

}  // namespace

TEST_CASE("cache layout: entries go to a two-hex-digit sub-folder; flat entries still load") {
    TempDir dir;
    const BottleneckCache cache(dir.file("c"));
    cache.store(key_of(1), features_of(1));
    const fs::path path = cache.entry_path(key_of(1));
    CHECK(fs::exists(path));
    CHECK(path.parent_path().filename().string() == path.filename().string().substr(0, 2));
    CHECK(path.parent_path().parent_path() == fs::path(dir.file("c")));

    const std::vector<std::uint8_t> flat = encode_bottleneck_entry(key_of(2), features_of(2));
    write_bytes(cache.flat_entry_path(key_of(2)), flat);
    REQUIRE(cache.load(key_of(2)).has_value());
    CHECK(*cache.load(key_of(2)) == features_of(2));
    CHECK(list_cache_entries(dir.file("c")).size() == 2);
    const CacheReport report = scan_cache(dir.file("c"));
    CHECK(report.entries == 2);
    CHECK(report.flat_entries == 1);
}

TEST_CASE("cache verify: damaged entries are found and named; temporary files are not entries") {
    TempDir dir;
    const BottleneckCache cache(dir.file("c"));
    fill(cache, 0, 10);
    const std::string flipped = cache.entry_path(key_of(3));
    std::vector<std::uint8_t> bytes = read_file_bytes(flipped);
    bytes[bytes.size() - 2] ^= 0x10;
    write_bytes(flipped, bytes);
    const std::string truncated = cache.entry_path(key_of(4));
    bytes = read_file_bytes(truncated);
    bytes.resize(bytes.size() - 3);
    write_bytes(truncated, bytes);
    // A good entry under another key's name is as useless as a damaged one.
    const std::string moved = cache.entry_path(key_of(5));
    fs::remove(moved);
    write_bytes(moved, encode_bottleneck_entry(key_of(99), features_of(99)));
    write_bytes(cache.entry_path(key_of(6)) + ".tmp.1234", {1, 2, 3});

    const CacheReport report = scan_cache(dir.file("c"));
    CHECK(report.entries == 7);
    REQUIRE(report.damaged.size() == 3);
    std::string all;
    for (const std::string& d : report.damaged) all += d + "\n";
    CHECK(all.find("CRC-32") != std::string::npos);
    CHECK(all.find("bytes of features") != std::string::npos);
    CHECK(all.find("another key") != std::string::npos);
    CHECK_FALSE(check_cache_entry(flipped).ok);
    CHECK(check_cache_entry(cache.entry_path(key_of(0))).ok);
}

TEST_CASE("cache stats: entries and bytes by layer and weights") {
    TempDir dir;
    const BottleneckCache cache(dir.file("c"));
    fill(cache, 0, 5);
    for (std::uint64_t c = 0; c < 3; ++c) cache.store(key_of(c, "mixed10", 0x123, 8), features_of(c, 8));
    const CacheReport report = scan_cache(dir.file("c"));
    CHECK(report.entries == 8);
    REQUIRE(report.groups.size() == 2);
    const CacheGroup& mixed5 = report.groups.at({"mixed5", 0xabc, 4});
    const CacheGroup& mixed10 = report.groups.at({"mixed10", 0x123, 8});
    CHECK(mixed5.entries == 5);
    CHECK(mixed10.entries == 3);
    CHECK(mixed5.bytes == 5 * fs::file_size(cache.entry_path(key_of(0))));
    CHECK(mixed10.bytes == 3 * fs::file_size(cache.entry_path(key_of(0, "mixed10", 0x123, 8))));
    CHECK(report.bytes == mixed5.bytes + mixed10.bytes);
}

TEST_CASE("cache merge: the union of the sources, byte for byte, damaged entries refused") {
    TempDir dir;
    const BottleneckCache a(dir.file("a")), b(dir.file("b"));
    fill(a, 0, 30);
    fill(b, 20, 50);
    write_bytes(a.flat_entry_path(key_of(77)), encode_bottleneck_entry(key_of(77), features_of(77)));
    std::vector<std::uint8_t> bytes = read_file_bytes(b.entry_path(key_of(49)));
    bytes[30] ^= 1;
    write_bytes(b.entry_path(key_of(49)), bytes);

    const MergeResult first = merge_caches({dir.file("a"), dir.file("b")}, dir.file("merged"));
    CHECK(first.copied == 50);  // 0..48 and 77
    CHECK(first.already_present == 10);
    REQUIRE(first.damaged.size() == 1);
    CHECK(first.damaged[0].find(b.entry_path(key_of(49))) != std::string::npos);
    const BottleneckCache merged(dir.file("merged"));
    for (std::uint64_t c : {0ull, 25ull, 48ull, 77ull}) {
        CAPTURE(c);
        REQUIRE(merged.load(key_of(c)).has_value());
        CHECK(*merged.load(key_of(c)) == features_of(c));
        CHECK(fs::exists(merged.entry_path(key_of(c))));
    }
    CHECK_FALSE(merged.load(key_of(49)).has_value());
    const CacheReport report = scan_cache(dir.file("merged"));
    CHECK(report.entries == 50);
    CHECK(report.flat_entries == 0);
    CHECK(report.damaged.empty());

    // Merging again copies nothing; a damaged destination entry is replaced; a good but
    // different one is kept.
    bytes = read_file_bytes(merged.entry_path(key_of(3)));
    bytes.back() ^= 0x40;
    write_bytes(merged.entry_path(key_of(3)), bytes);
    merged.store(key_of(4), {9, 9, 9, 9});
    const MergeResult again = merge_caches({dir.file("a")}, dir.file("merged"));
    CHECK(again.copied == 1);
    CHECK(again.replaced_damaged == 1);
    CHECK(again.kept_different == 1);
    CHECK(again.already_present == 29);
    CHECK(*merged.load(key_of(3)) == features_of(3));
    CHECK(*merged.load(key_of(4)) == std::vector<float>{9, 9, 9, 9});
}

TEST_CASE("cache merge: a missing source is refused") {
    TempDir dir;
    CHECK_THROWS_AS(merge_caches({dir.file("nothing")}, dir.file("dest")), Error);
}

TEST_CASE("cache prune: by weights checksum, damage and age; dry run removes nothing") {
    TempDir dir;
    const BottleneckCache cache(dir.file("c"));
    fill(cache, 0, 6);
    for (std::uint64_t c = 0; c < 4; ++c) cache.store(key_of(c, "mixed5", 0x999), features_of(c));
    write_bytes(cache.entry_path(key_of(5)), {'T', 'B', 'N', 'C'});

    PruneOptions by_weights;
    by_weights.weights_checksum = 0x999;
    by_weights.dry_run = true;
    CHECK(prune_cache(dir.file("c"), by_weights).removed == 4);
    CHECK(list_cache_entries(dir.file("c")).size() == 10);
    by_weights.dry_run = false;
    const PruneResult removed = prune_cache(dir.file("c"), by_weights);
    CHECK(removed.removed == 4);
    CHECK(removed.kept == 6);
    CHECK(list_cache_entries(dir.file("c")).size() == 6);

    PruneOptions damaged;
    damaged.damaged = true;
    CHECK(prune_cache(dir.file("c"), damaged).removed == 1);
    CHECK(scan_cache(dir.file("c")).damaged.empty());

    fs::last_write_time(cache.entry_path(key_of(0)), fs::file_time_type::clock::now() - std::chrono::hours(24 * 40));
    PruneOptions old;
    old.older_than_days = 30;
    CHECK(prune_cache(dir.file("c"), old).removed == 1);
    CHECK_FALSE(cache.load(key_of(0)).has_value());
    CHECK(cache.load(key_of(1)).has_value());

    CHECK_THROWS_AS(prune_cache(dir.file("c"), PruneOptions{}), Error);
}
