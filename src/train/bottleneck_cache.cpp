// Bottleneck cache entries: encoding, decoding with full checks, atomic writes.
#include "train/bottleneck_cache.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "byte_io.hpp"
#include "error.hpp"
#include "file_io.hpp"
#include "train/hashing.hpp"
#include "weights/crc32.hpp"

namespace tinception {
namespace {

constexpr std::uint8_t kMagic[8] = {'T', 'B', 'N', 'C', '\r', '\n', 0x1A, '\n'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kMaxLayerName = 4096;

void write_key(ByteWriter& w, const BottleneckKey& key) {
    w.u64(key.content_hash);
    w.u32(key.weights_checksum);
    w.u32(std::uint32_t(key.feature_size));
    w.string(key.layer);
}

}  // namespace

std::uint64_t image_content_hash(const std::uint8_t* data, std::size_t size) { return fnv1a_64(data, size); }

std::uint64_t image_content_hash_of_file(const std::string& path) {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path);
    return image_content_hash(bytes.data(), bytes.size());
}

BottleneckCache::BottleneckCache(std::string directory) : directory_(std::move(directory)) {
    std::error_code ec;
    std::filesystem::create_directories(directory_, ec);
    if (ec || !std::filesystem::is_directory(directory_))
        throw Error(directory_ + ": cannot create bottleneck cache folder" + (ec ? ": " + ec.message() : ""));
}

std::string BottleneckCache::entry_path(const BottleneckKey& key) const {
    ByteWriter w;
    write_key(w, key);
    char name[32];
    std::snprintf(name, sizeof name, "%016llx.bnc",
                  static_cast<unsigned long long>(fnv1a_64(w.bytes().data(), w.bytes().size())));
    return (std::filesystem::path(directory_) / name).string();
}

std::optional<std::vector<float>> BottleneckCache::load(const BottleneckKey& key) const {
    const std::string path = entry_path(key);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    try {
        const std::vector<std::uint8_t> bytes = read_file_bytes(path);
        ByteReader r(bytes.data(), bytes.size(), path);
        const std::uint8_t* magic = r.take(sizeof kMagic, "the magic");
        if (!std::equal(magic, magic + sizeof kMagic, kMagic)) return std::nullopt;
        if (r.u32() != kVersion) return std::nullopt;
        if (r.u64() != key.content_hash) return std::nullopt;
        if (r.u32() != key.weights_checksum) return std::nullopt;
        if (r.u32() != std::uint32_t(key.feature_size)) return std::nullopt;
        if (r.string(kMaxLayerName) != key.layer) return std::nullopt;
        const std::uint32_t count = r.u32();
        const std::uint32_t crc = r.u32();
        if (count != std::uint32_t(key.feature_size) || r.remaining() != std::size_t(count) * 4u)
            return std::nullopt;
        const std::uint8_t* data = bytes.data() + r.position();
        if (crc32(data, std::size_t(count) * 4u) != crc) return std::nullopt;
        std::vector<float> features(count);
        r.floats(features.data(), count);
        return features;
    } catch (const Error&) {
        return std::nullopt;  // unreadable or truncated: recompute
    }
}

void BottleneckCache::store(const BottleneckKey& key, const std::vector<float>& features) const {
    if (key.feature_size < 0 || features.size() != std::size_t(key.feature_size))
        throw Error("bottleneck cache: " + std::to_string(features.size()) + " features for a key of feature size " +
                        std::to_string(key.feature_size),
                    ErrorKind::internal);
    ByteWriter w;
    w.raw(kMagic, sizeof kMagic);
    w.u32(kVersion);
    write_key(w, key);
    w.u32(std::uint32_t(features.size()));
    ByteWriter data;
    data.floats(features.data(), features.size());
    w.u32(crc32(data.bytes().data(), data.bytes().size()));
    w.raw(data.bytes().data(), data.bytes().size());
    write_file_atomically(entry_path(key), w.bytes().data(), w.bytes().size());
}

}  // namespace tinception
