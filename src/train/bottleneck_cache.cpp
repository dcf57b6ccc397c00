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
constexpr std::uint32_t kVersion = 1;             // keys decoded at stored size
constexpr std::uint32_t kVersionWithDecode = 2;   // keys with a decode variant
constexpr std::size_t kMaxLayerName = 4096;

void write_key(ByteWriter& w, const BottleneckKey& key) {
    w.u64(key.content_hash);
    w.u32(key.weights_checksum);
    w.u32(std::uint32_t(key.feature_size));
    w.string(key.layer);
    if (!key.decode.empty()) w.string(key.decode);  // absent: the name and bytes of version 1
}

}  // namespace

std::uint64_t image_content_hash(const std::uint8_t* data, std::size_t size) { return fnv1a_64(data, size); }

std::uint64_t image_content_hash_of_file(const std::string& path) {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path);
    return image_content_hash(bytes.data(), bytes.size());
}

std::vector<std::uint8_t> encode_bottleneck_entry(const BottleneckKey& key, const std::vector<float>& features) {
    if (key.feature_size < 0 || features.size() != std::size_t(key.feature_size))
        throw Error("bottleneck cache: " + std::to_string(features.size()) + " features for a key of feature size " +
                        std::to_string(key.feature_size),
                    ErrorKind::internal);
    ByteWriter w;
    w.raw(kMagic, sizeof kMagic);
    w.u32(key.decode.empty() ? kVersion : kVersionWithDecode);
    write_key(w, key);
    w.u32(std::uint32_t(features.size()));
    ByteWriter data;
    data.floats(features.data(), features.size());
    w.u32(crc32(data.bytes().data(), data.bytes().size()));
    w.raw(data.bytes().data(), data.bytes().size());
    return std::move(w.bytes());
}

BottleneckEntry decode_bottleneck_entry(const std::vector<std::uint8_t>& bytes, const std::string& path) {
    ByteReader r(bytes.data(), bytes.size(), path);
    const std::uint8_t* magic = r.take(sizeof kMagic, "the magic");
    if (!std::equal(magic, magic + sizeof kMagic, kMagic)) throw Error(path + ": not a bottleneck cache entry");
    const std::uint32_t version = r.u32();
    if (version != kVersion && version != kVersionWithDecode)
        throw Error(path + ": entry format " + std::to_string(version) + ", this build reads " +
                    std::to_string(kVersion) + " and " + std::to_string(kVersionWithDecode));
    BottleneckEntry entry;
    entry.key.content_hash = r.u64();
    entry.key.weights_checksum = r.u32();
    entry.key.feature_size = int(r.u32());
    entry.key.layer = r.string(kMaxLayerName);
    if (version == kVersionWithDecode) {
        entry.key.decode = r.string(kMaxLayerName);
        if (entry.key.decode.empty()) throw Error(path + ": format 2 entry without a decode variant");
    }
    const std::uint32_t count = r.u32();
    const std::uint32_t crc = r.u32();
    if (entry.key.feature_size < 0 || count != std::uint32_t(entry.key.feature_size))
        throw Error(path + ": " + std::to_string(count) + " floats for a feature size of " +
                    std::to_string(std::uint32_t(entry.key.feature_size)));
    if (r.remaining() != std::size_t(count) * 4u)
        throw Error(path + ": " + std::to_string(r.remaining()) + " bytes of features, expected " +
                    std::to_string(std::size_t(count) * 4u));
    if (crc32(bytes.data() + r.position(), std::size_t(count) * 4u) != crc)
        throw Error(path + ": features fail their CRC-32 check");
    entry.features.resize(count);
    r.floats(entry.features.data(), count);
    return entry;
}

std::string bottleneck_entry_name(const BottleneckKey& key) {
    ByteWriter w;
    write_key(w, key);
    char name[32];
    std::snprintf(name, sizeof name, "%016llx.bnc",
                  static_cast<unsigned long long>(fnv1a_64(w.bytes().data(), w.bytes().size())));
    return name;
}

BottleneckCache::BottleneckCache(std::string directory) : directory_(std::move(directory)) {
    std::error_code ec;
    std::filesystem::create_directories(directory_, ec);
    if (ec || !std::filesystem::is_directory(directory_))
        throw Error(directory_ + ": cannot create bottleneck cache folder" + (ec ? ": " + ec.message() : ""));
}

std::string BottleneckCache::entry_path(const BottleneckKey& key) const {
    const std::string name = bottleneck_entry_name(key);
    return (std::filesystem::path(directory_) / name.substr(0, 2) / name).string();
}

std::string BottleneckCache::flat_entry_path(const BottleneckKey& key) const {
    return (std::filesystem::path(directory_) / bottleneck_entry_name(key)).string();
}

std::optional<std::vector<float>> BottleneckCache::load(const BottleneckKey& key) const {
    for (const std::string& path : {entry_path(key), flat_entry_path(key)}) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec)) continue;
        try {
            BottleneckEntry entry = decode_bottleneck_entry(read_file_bytes(path), path);
            const BottleneckKey& found = entry.key;
            if (found.content_hash == key.content_hash && found.weights_checksum == key.weights_checksum &&
                found.feature_size == key.feature_size && found.layer == key.layer && found.decode == key.decode)
                return std::move(entry.features);
        } catch (const Error&) {
            // unreadable, truncated or damaged: try the other place, else recompute
        }
    }
    return std::nullopt;
}

void BottleneckCache::store(const BottleneckKey& key, const std::vector<float>& features) const {
    const std::vector<std::uint8_t> bytes = encode_bottleneck_entry(key, features);
    const std::filesystem::path path = entry_path(key);
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) throw Error(path.parent_path().string() + ": cannot create cache sub-folder: " + ec.message());
    write_file_atomically(path.string(), bytes.data(), bytes.size());
}

}  // namespace tinception
