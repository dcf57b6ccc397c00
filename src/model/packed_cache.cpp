// Reading, checking and writing the packed-weights cache file; see packed_cache.hpp.
#include "model/packed_cache.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <tuple>

#include "aligned_buffer.hpp"
#include "byte_io.hpp"
#include "error.hpp"
#include "file_io.hpp"
#include "parallel/thread_pool.hpp"
#include "model/layer_args.hpp"
#include "weights/layer_graph.hpp"
#include "weights/xxh64.hpp"

namespace tinception {
namespace {

constexpr std::uint8_t kMagic[8] = {'T', 'C', 'P', 'A', 'C', 'K', '\r', '\n'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kTableNameBytes = 16;
// Header field offsets.
constexpr std::size_t kOffVersion = 8, kOffHeaderSize = 12, kOffChecksum = 16, kOffTable = 20,
                      kOffFingerprint = 36, kOffIdentity = 44, kOffEntryCount = 84, kOffDataOffset = 88,
                      kOffTrailerOffset = 96, kOffFileSize = 104, kOffHeaderHash = 112, kHeaderSize = 120;
constexpr std::size_t kEntryBytes = 32;

void store_identity(std::uint8_t* p, const FileIdentity& id) {
    store_le(p, id.device);
    store_le(p + 8, id.inode);
    store_le(p + 16, id.size);
    store_le(p + 24, id.modified_ns);
    store_le(p + 32, id.changed_ns);
}

FileIdentity load_identity(const std::uint8_t* p) {
    return {load_le<std::uint64_t>(p), load_le<std::uint64_t>(p + 8), load_le<std::uint64_t>(p + 16),
            load_le<std::int64_t>(p + 24), load_le<std::int64_t>(p + 32)};
}

struct ConvLayer {
    int index;
    kernels::Conv2dArgs args;
};

std::vector<ConvLayer> conv_layers(const LayerGraph& graph) {
    std::vector<ConvLayer> out;
    for (std::size_t i = 0; i < graph.layers().size(); ++i)
        if (graph.layers()[i].op == LayerOp::conv2d)
            out.push_back({int(i), conv_args_for_packing(graph, graph.layers()[i])});
    return out;
}

std::string table_name_field(const std::string& name) {
    std::string field = name.substr(0, kTableNameBytes);
    field.resize(kTableNameBytes, '\0');
    return field;
}

}  // namespace

std::uint64_t packing_fingerprint(const LayerGraph& graph, const kernels::KernelTable& table) {
    std::vector<std::uint64_t> parts = {xxh64(table.isa_name, std::strlen(table.isa_name)),
                                        std::uint64_t(table.conv2d_panel_width)};
    std::map<std::tuple<int, int, int, int, std::string>, kernels::Conv2dArgs> kinds;
    for (const ConvLayer& c : conv_layers(graph)) {
        const char* path = table.conv2d_path ? table.conv2d_path(c.args) : "";
        parts.push_back(xxh64(path, std::strlen(path)));
        parts.push_back(table.conv2d_packed_size ? table.conv2d_packed_size(c.args) : 0);
        parts.push_back(std::uint64_t(table.conv2d_row_alignment ? table.conv2d_row_alignment(c.args) : 1));
        kinds.emplace(std::make_tuple(c.args.kernel_h, c.args.kernel_w, c.args.stride_h, c.args.stride_w, path),
                      c.args);
    }
    // A few channels of one layer per kind, packed from fixed values: the transforms and panel
    // order are in the bytes, so changed packing code changes the fingerprint.
    if (table.conv2d_pack && table.conv2d_packed_size)
        for (const auto& kind : kinds) {
            kernels::Conv2dArgs a = kind.second;
            a.out_c = std::min(a.out_c, 2 * std::max(table.conv2d_panel_width, 8));
            a.in_c = a.in_pixel_stride = std::min(a.in_c, 64);  // unless that takes another path
            if (table.conv2d_path && std::strcmp(table.conv2d_path(a), std::get<4>(kind.first).c_str()) != 0)
                a.in_c = a.in_pixel_stride = kind.second.in_c;
            std::vector<float> weights(std::size_t(a.out_c) * a.in_c * a.kernel_h * a.kernel_w), bias(a.out_c);
            for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = float(int(i * 7919 % 257) - 128) / 64.0f;
            for (std::size_t i = 0; i < bias.size(); ++i) bias[i] = float(i);
            a.weights = weights.data();
            a.bias = bias.data();
            AlignedBuffer packed(table.conv2d_packed_size(a), "a packing probe");
            std::memset(packed.data(), 0, packed.size());
            table.conv2d_pack(a, packed.data());
            parts.push_back(xxh64(packed.data(), table.conv2d_packed_size(a)));
        }
    return xxh64(parts.data(), parts.size() * sizeof(std::uint64_t));
}

std::string packed_cache_file_name(const PackedCacheKey& key) {
    char name[64];
    std::snprintf(name, sizeof name, "%08x-%.16s-%016llx%s.tcp", unsigned(key.weights_checksum), key.table_name.c_str(),
                  static_cast<unsigned long long>(key.fingerprint), key.weights_8bit ? "-u8" : "");
    return name;
}

std::string default_packed_cache_dir() { return default_cache_dir("packed"); }

std::unique_ptr<PackedCacheFile> PackedCacheFile::open(const std::string& path, const PackedCacheKey& key,
                                                       std::string* why_not) {
    auto file = std::unique_ptr<PackedCacheFile>(new PackedCacheFile);
    const auto refuse = [why_not](const std::string& why) {
        if (why_not) *why_not = why;
        return std::unique_ptr<PackedCacheFile>();
    };
    try {
        file->mapping_ = MappedFile(path);
    } catch (const Error& e) {
        return refuse(e.what());
    }
    const std::uint8_t* base = file->mapping_.data();
    const std::uint64_t size = file->mapping_.size();
    if (size < kHeaderSize || std::memcmp(base, kMagic, sizeof kMagic) != 0) return refuse("not a packed-weights cache");
    if (load_le<std::uint32_t>(base + kOffVersion) != kVersion ||
        load_le<std::uint32_t>(base + kOffHeaderSize) != kHeaderSize)
        return refuse("another cache version");
    if (xxh64(base, kOffHeaderHash) != load_le<std::uint64_t>(base + kOffHeaderHash)) return refuse("header damaged");
    if (load_le<std::uint32_t>(base + kOffChecksum) != key.weights_checksum ||
        std::memcmp(base + kOffTable, table_name_field(key.table_name).data(), kTableNameBytes) != 0 ||
        load_le<std::uint64_t>(base + kOffFingerprint) != key.fingerprint)
        return refuse("made for other weights, kernels or packing");
    if (!(load_identity(base + kOffIdentity) == key.weights_identity))
        return refuse("the weight file changed since its data was verified");
    const auto count = load_le<std::uint32_t>(base + kOffEntryCount);
    const auto data_offset = load_le<std::uint64_t>(base + kOffDataOffset);
    const auto trailer_offset = load_le<std::uint64_t>(base + kOffTrailerOffset);
    if (load_le<std::uint64_t>(base + kOffFileSize) != size) return refuse("truncated or padded");
    if (data_offset != round_up_64(kHeaderSize) || trailer_offset < data_offset || trailer_offset > size ||
        (size - trailer_offset) != std::uint64_t(count) * kEntryBytes + 8)
        return refuse("sections out of range");
    const std::uint8_t* trailer = base + trailer_offset;
    if (xxh64(trailer, std::size_t(count) * kEntryBytes) != load_le<std::uint64_t>(trailer + std::size_t(count) * kEntryBytes))
        return refuse("entry table damaged");
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint8_t* e = trailer + std::size_t(i) * kEntryBytes;
        PackedCacheEntry entry{load_le<std::uint32_t>(e), load_le<std::uint64_t>(e + 8), load_le<std::uint64_t>(e + 16),
                               load_le<std::uint64_t>(e + 24)};
        if (entry.offset % 64 != 0 || entry.offset < data_offset || entry.offset > trailer_offset ||
            entry.size > trailer_offset - entry.offset || entry.layer > (1u << 20))
            return refuse("an entry lies outside the data");
        if (entry.layer >= file->entry_of_layer_.size()) file->entry_of_layer_.resize(entry.layer + 1, -1);
        if (file->entry_of_layer_[entry.layer] >= 0) return refuse("a layer appears twice");
        file->entry_of_layer_[entry.layer] = int(i);
        file->entries_.push_back(entry);
    }
    file->checked_.assign(file->entries_.size(), 0);
    return file;
}

const void* PackedCacheFile::layer(int layer, std::size_t size, bool* damaged) {
    if (layer < 0 || std::size_t(layer) >= entry_of_layer_.size() || entry_of_layer_[std::size_t(layer)] < 0)
        return nullptr;
    const std::size_t i = std::size_t(entry_of_layer_[std::size_t(layer)]);
    const PackedCacheEntry& e = entries_[i];
    const std::uint8_t* bytes = mapping_.data() + e.offset;
    if (!checked_[i]) {
        if (e.size != size || xxh64(bytes, std::size_t(e.size)) != e.hash) {
            *damaged = true;
            return nullptr;
        }
        checked_[i] = 1;
    }
    return bytes;
}

void PackedCacheFile::check_layers(const std::vector<int>& layers) {
    std::vector<std::size_t> todo;
    for (const int layer : layers)
        if (layer >= 0 && std::size_t(layer) < entry_of_layer_.size() && entry_of_layer_[std::size_t(layer)] >= 0) {
            const std::size_t i = std::size_t(entry_of_layer_[std::size_t(layer)]);
            if (!checked_[i]) todo.push_back(i);
        }
    // Each task writes its own entry's flag.
    parallel_for(int(todo.size()), [&](int t) {
        const PackedCacheEntry& e = entries_[todo[std::size_t(t)]];
        mapping_.prefault(std::size_t(e.offset), std::size_t(e.size));
        if (xxh64(mapping_.data() + e.offset, std::size_t(e.size)) == e.hash) checked_[todo[std::size_t(t)]] = 1;
    });
}

std::vector<PackedLayerBytes> PackedCacheFile::stored_layers() const {
    std::vector<PackedLayerBytes> out;
    for (const PackedCacheEntry& e : entries_) out.push_back({e.layer, mapping_.data() + e.offset, e.size, e.hash});
    std::sort(out.begin(), out.end(), [](const PackedLayerBytes& a, const PackedLayerBytes& b) { return a.layer < b.layer; });
    return out;
}

void write_packed_cache(const std::string& path, const PackedCacheKey& key, std::vector<PackedLayerBytes> layers) {
    std::sort(layers.begin(), layers.end(),
              [](const PackedLayerBytes& a, const PackedLayerBytes& b) { return a.layer < b.layer; });
    std::vector<PackedCacheEntry> entries;
    std::uint64_t at = round_up_64(kHeaderSize);
    for (const PackedLayerBytes& l : layers) {
        const std::uint64_t hash = l.hash ? *l.hash : xxh64(l.bytes, std::size_t(l.size));
        entries.push_back({l.layer, at, l.size, hash});
        at += round_up_64(std::size_t(l.size));
    }
    const std::uint64_t trailer_offset = at;
    const std::uint64_t file_size = trailer_offset + entries.size() * kEntryBytes + 8;

    std::uint8_t header[round_up_64(kHeaderSize)] = {};
    std::memcpy(header, kMagic, sizeof kMagic);
    store_le(header + kOffVersion, kVersion);
    store_le(header + kOffHeaderSize, std::uint32_t(kHeaderSize));
    store_le(header + kOffChecksum, key.weights_checksum);
    std::memcpy(header + kOffTable, table_name_field(key.table_name).data(), kTableNameBytes);
    store_le(header + kOffFingerprint, key.fingerprint);
    store_identity(header + kOffIdentity, key.weights_identity);
    store_le(header + kOffEntryCount, std::uint32_t(entries.size()));
    store_le(header + kOffDataOffset, std::uint64_t(sizeof header));
    store_le(header + kOffTrailerOffset, trailer_offset);
    store_le(header + kOffFileSize, file_size);
    store_le(header + kOffHeaderHash, xxh64(header, kOffHeaderHash));

    AtomicFileWriter out(path);
    out.write(header, sizeof header);
    static const std::uint8_t zeros[64] = {};
    for (const PackedLayerBytes& l : layers) {
        out.write(l.bytes, std::size_t(l.size));
        out.write(zeros, round_up_64(std::size_t(l.size)) - std::size_t(l.size));  // to the next entry's boundary
    }
    std::vector<std::uint8_t> trailer(entries.size() * kEntryBytes + 8, 0);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        std::uint8_t* e = trailer.data() + i * kEntryBytes;
        store_le(e, entries[i].layer);
        store_le(e + 8, entries[i].offset);
        store_le(e + 16, entries[i].size);
        store_le(e + 24, entries[i].hash);
    }
    store_le(trailer.data() + entries.size() * kEntryBytes, xxh64(trailer.data(), entries.size() * kEntryBytes));
    out.write(trailer.data(), trailer.size());
    out.commit(true, Durability::caller_syncs);
}

std::string save_packed_layers(const std::string& path, PackedCacheKey key, const FileIdentity& identity,
                               std::vector<PackedLayerBytes> fresh, const PackedCacheFile* old,
                               const std::vector<char>& damaged) {
    if (old) {
        const std::size_t fresh_count = fresh.size();
        for (const PackedLayerBytes& stored : old->stored_layers()) {
            const std::size_t i = stored.layer;
            const bool replaced = std::any_of(fresh.begin(), fresh.begin() + std::ptrdiff_t(fresh_count),
                                              [&](const PackedLayerBytes& f) { return f.layer == stored.layer; });
            if (!replaced && !(i < damaged.size() && damaged[i])) fresh.push_back(stored);
        }
    }
    try {
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
        key.weights_identity = identity;
        write_packed_cache(path, key, std::move(fresh));
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

}  // namespace tinception
