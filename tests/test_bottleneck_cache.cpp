// The bottleneck cache: hits, misses on any key change, and refusal of damaged entries.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "error.hpp"
#include "file_io.hpp"
#include "temp_dir.hpp"
#include "train/bottleneck_cache.hpp"

using namespace tinception;
using tinception::testing::TempDir;

namespace {

BottleneckKey sample_key() {
    BottleneckKey key;
    key.content_hash = 0x0123456789abcdefULL;
    key.layer = "pool_3";
    key.weights_checksum = 0xdeadbeef;
    key.feature_size = 6;
    return key;
}

const std::vector<float> kFeatures = {0.5f, -1.25f, 3.0f, 0.0f, 1e-20f, 42.0f};

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

}  // namespace

TEST_CASE("a stored entry loads back exactly") {
    TempDir dir;
    BottleneckCache cache(dir.file("cache/nested"));
    const BottleneckKey key = sample_key();
    CHECK_FALSE(cache.load(key).has_value());
    cache.store(key, kFeatures);
    const auto loaded = cache.load(key);
    REQUIRE(loaded.has_value());
    CHECK(*loaded == kFeatures);
    CHECK(std::filesystem::path(cache.entry_path(key)).extension() == ".bnc");
}

TEST_CASE("changing any key field misses") {
    TempDir dir;
    BottleneckCache cache(dir.path().string());
    cache.store(sample_key(), kFeatures);
    BottleneckKey k = sample_key();
    k.content_hash ^= 1;
    CHECK_FALSE(cache.load(k).has_value());
    k = sample_key();
    k.layer = "mixed_10";
    CHECK_FALSE(cache.load(k).has_value());
    k = sample_key();
    k.weights_checksum ^= 0x100;
    CHECK_FALSE(cache.load(k).has_value());
    k = sample_key();
    k.feature_size = 7;
    CHECK_FALSE(cache.load(k).has_value());
    CHECK(cache.load(sample_key()).has_value());
}

TEST_CASE("an entry with any flipped byte is rejected") {
    TempDir dir;
    BottleneckCache cache(dir.path().string());
    const BottleneckKey key = sample_key();
    cache.store(key, kFeatures);
    const std::string path = cache.entry_path(key);
    const std::vector<std::uint8_t> good = read_file_bytes(path);
    for (std::size_t i = 0; i < good.size(); ++i) {
        CAPTURE(i);
        std::vector<std::uint8_t> bad = good;
        bad[i] ^= 0x04;
        write_bytes(path, bad);
        CHECK_FALSE(cache.load(key).has_value());
    }
    write_bytes(path, good);
    CHECK(cache.load(key).has_value());
}

TEST_CASE("a truncated or extended entry is rejected") {
    TempDir dir;
    BottleneckCache cache(dir.path().string());
    const BottleneckKey key = sample_key();
    cache.store(key, kFeatures);
    const std::string path = cache.entry_path(key);
    const std::vector<std::uint8_t> good = read_file_bytes(path);
    for (std::size_t size : {std::size_t(0), std::size_t(3), std::size_t(12), good.size() / 2, good.size() - 1}) {
        CAPTURE(size);
        write_bytes(path, std::vector<std::uint8_t>(good.begin(), good.begin() + std::ptrdiff_t(size)));
        CHECK_FALSE(cache.load(key).has_value());
    }
    std::vector<std::uint8_t> longer = good;
    longer.push_back(0);
    write_bytes(path, longer);
    CHECK_FALSE(cache.load(key).has_value());
}

TEST_CASE("content hash depends on the bytes only") {
    TempDir dir;
    write_bytes(dir.file("a.jpg"), {1, 2, 3});
    write_bytes(dir.file("b.png"), {1, 2, 3});
    write_bytes(dir.file("c.jpg"), {1, 2, 4});
    CHECK(image_content_hash_of_file(dir.file("a.jpg")) == image_content_hash_of_file(dir.file("b.png")));
    CHECK(image_content_hash_of_file(dir.file("a.jpg")) != image_content_hash_of_file(dir.file("c.jpg")));
    CHECK(image_content_hash(nullptr, 0) == 0xcbf29ce484222325ULL);
}

TEST_CASE("storing features of the wrong size is an error") {
    TempDir dir;
    BottleneckCache cache(dir.path().string());
    CHECK_THROWS(cache.store(sample_key(), {1.0f, 2.0f}));
}

TEST_CASE("an entry for another key under this key's file name is not trusted") {
    TempDir dir;
    BottleneckCache cache(dir.path().string());
    BottleneckKey other = sample_key();
    other.layer = "mixed_10";
    cache.store(other, kFeatures);
    std::filesystem::create_directories(std::filesystem::path(cache.entry_path(sample_key())).parent_path());
    std::filesystem::copy_file(cache.entry_path(other), cache.entry_path(sample_key()));
    CHECK_FALSE(cache.load(sample_key()).has_value());
    std::filesystem::copy_file(cache.entry_path(other), cache.flat_entry_path(sample_key()));  // older layout
    CHECK_FALSE(cache.load(sample_key()).has_value());
    CHECK(cache.load(other).has_value());
}

TEST_CASE("the decode variant is part of the key; entries without one keep format 1") {
    TempDir dir;
    BottleneckCache cache(dir.path().string());
    const BottleneckKey exact = sample_key();
    BottleneckKey scaled = sample_key();
    scaled.decode = "jpeg-dct-scaled";
    CHECK(bottleneck_entry_name(exact) != bottleneck_entry_name(scaled));
    cache.store(scaled, kFeatures);
    CHECK_FALSE(cache.load(exact).has_value());  // features of a scaled decode never serve an exact one
    REQUIRE(cache.load(scaled).has_value());
    std::vector<float> other = kFeatures;
    other[0] = 9.0f;
    cache.store(exact, other);
    CHECK(*cache.load(exact) == other);
    CHECK(*cache.load(scaled) == kFeatures);

    const std::vector<std::uint8_t> v1 = encode_bottleneck_entry(exact, kFeatures);
    const std::vector<std::uint8_t> v2 = encode_bottleneck_entry(scaled, kFeatures);
    CHECK(v1[8] == 1);  // format version, little-endian after the 8-byte magic
    CHECK(v2[8] == 2);
    CHECK(decode_bottleneck_entry(v1, "v1.bnc").key.decode.empty());
    CHECK(decode_bottleneck_entry(v2, "v2.bnc").key.decode == "jpeg-dct-scaled");
    // Truncated inside the variant: refused, not misread.
    const std::vector<std::uint8_t> cut(v2.begin(), v2.begin() + 40);
    CHECK_THROWS_AS(decode_bottleneck_entry(cut, "cut.bnc"), Error);
}
