// Opens a .tcw file: maps it, checks the header, CRCs, table and metadata, has layer_graph.cpp
// check the graph, and builds tensor views into the mapping. Every read of the table is
// bounds-checked, so no input crashes it.
#include "weights/weight_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <set>
#include <unordered_map>
#include <utility>

#include "aligned_buffer.hpp"
#include "byte_io.hpp"
#include "error.hpp"
#include "weights/crc32.hpp"
#include "weights/expanded_weights.hpp"
#include "weights/layer_graph.hpp"
#include "weights/mapped_file.hpp"
#include "weights/tcw_format.hpp"

namespace tinception {

// Named, not anonymous: WeightFile::Impl derives from it (and the library compiles as unity files).
namespace weight_file_detail {

// What an open file holds; WeightFile::Impl is this, named so the helpers below can take it.
struct LoadedWeights {
    std::string path;
    MappedFile mapping;  // the bytes, for a file opened by path
    AlignedBuffer copy;  // or, for a file given in memory, its bytes copied
    const std::uint8_t* bytes = nullptr;
    std::size_t size = 0;
    std::vector<TensorRef> tensors;
    std::vector<LayerSpec> layers;
    std::unordered_map<std::string, std::size_t> tensor_index;
    std::unordered_map<std::string, std::size_t> layer_index;
    std::map<std::string, std::string> metadata;
    LayerGraph graph;
    std::uint32_t content_crc = 0;  // the header's, checked against the bytes by verify_content()
    std::uint32_t checksum = 0;     // content_crc, or for format 3 that of the float32 file it expands to
    std::uint32_t format_version = 0;
    std::unique_ptr<ExpandedWeights> expanded;  // format 3: the float32 tensors the views point into
    std::uint64_t table_offset = 0, data_offset = 0;
    std::mutex verify_mutex;
    bool data_verified = false;  // under verify_mutex
    FileIdentity no_identity;    // what identity() gives for weights in memory
};

}  // namespace weight_file_detail

using weight_file_detail::LoadedWeights;

namespace {

// The table's CRC matched, so a mismatch here is damage in the data.
void verify_content(const LoadedWeights& f) {
    const std::uint8_t* base = f.bytes;
    const std::size_t table_size = std::size_t(f.data_offset - f.table_offset);
    const std::uint32_t computed = crc32(base + f.data_offset, std::size_t(f.size - f.data_offset),
                                         crc32(base + f.table_offset, table_size));
    if (computed != f.content_crc)
        throw Error(f.path + ": data checksum mismatch (expected " + hex32(f.content_crc) +
                    " over table and data, computed " + hex32(computed) + "); the file is damaged");
}

bool host_is_little_endian() {
    const std::uint32_t one = 1;
    unsigned char first = 0;
    std::memcpy(&first, &one, 1);
    return first == 1;
}

// A format-3 file's claim of the checksum of the float32 file it expands to: 8 hex digits.
std::uint32_t float32_checksum_of(std::map<std::string, std::string>& metadata, const std::string& path) {
    const auto it = metadata.find(tcw::kFloat32Checksum);
    if (it == metadata.end())
        throw Error(path + ": a format 3 file without the '" + std::string(tcw::kFloat32Checksum) + "' metadata");
    const std::string text = it->second;
    char* end = nullptr;
    const unsigned long value = text.size() == 8 ? std::strtoul(text.c_str(), &end, 16) : 0;
    if (text.size() != 8 || end != text.c_str() + 8 || text.find_first_of("+- ") != std::string::npos)
        throw Error(path + ": " + tcw::kFloat32Checksum + " '" + text.substr(0, 20) + "' is not 8 hex digits");
    metadata.erase(it);  // metadata() is the float32 file's
    return std::uint32_t(value);
}

// One tensor entry of the table; uint8 ones (format 3) carry their scale and min.
StoredTensor read_entry(ByteReader& r, std::uint32_t index, std::uint32_t version, const std::string& path,
                        const std::uint8_t* data, std::uint64_t data_size) {
    StoredTensor t;
    t.name = r.text16("a tensor name");
    const std::string who = path + ": tensor '" + t.name + "'";
    if (t.name.empty()) throw Error(path + ": tensor " + std::to_string(index) + " has an empty name");
    t.dtype = r.number<std::uint8_t>("a tensor dtype");
    if (t.dtype != tcw::kDtypeFloat32 && (t.dtype != tcw::kDtypeUint8 || version < 3))
        throw Error(who + " has dtype code " + std::to_string(t.dtype) + ", format " + std::to_string(version) +
                    (version < 3 ? " has only float32 (1)" : " has float32 (1) and uint8 (2)"));
    const std::uint64_t element = t.dtype == tcw::kDtypeUint8 ? 1 : sizeof(float);
    const auto rank = r.number<std::uint8_t>("a tensor rank");
    std::uint64_t count = 1;
    for (int d = 0; d < rank; ++d) {
        const auto dim = r.number<std::uint32_t>("tensor dims");
        t.dims.push_back(dim);
        if (dim != 0 && count > std::numeric_limits<std::uint64_t>::max() / 4 / dim)
            throw Error(who + " has dims whose product overflows");
        count *= dim;
    }
    const auto offset = r.number<std::uint64_t>("a tensor offset");
    const auto size = r.number<std::uint64_t>("a tensor size");
    if (t.dtype == tcw::kDtypeUint8) {
        t.scale = r.number<double>("a tensor scale");
        t.min = r.number<double>("a tensor min");
        if (!std::isfinite(t.scale) || !std::isfinite(t.min))
            throw Error(who + " has scale " + std::to_string(t.scale) + " and min " + std::to_string(t.min) +
                        "; both must be finite");
    }
    if (count * element != size)
        throw Error(who + " has shape " + dims_text(t.dims) + " (" + std::to_string(count * element) +
                    " bytes) but its size field says " + std::to_string(size) + " bytes");
    if (offset % tcw::kDataAlignment != 0)
        throw Error(who + " starts at data offset " + std::to_string(offset) + ", which is not a multiple of " +
                    std::to_string(tcw::kDataAlignment));
    if (offset > data_size || size > data_size - offset)
        throw Error(who + " spans data bytes " + std::to_string(offset) + ".." + std::to_string(offset + size) +
                    ", outside the data section of " + std::to_string(data_size) + " bytes");
    t.bytes = data + offset;
    t.count = std::size_t(count);
    return t;
}

// Reads the three parts of the table: tensor entries, metadata, graph. A format-3 file's
// tensors and layers are then expanded to their float32 form (expanded_weights.hpp).
void parse_table(LoadedWeights& f, std::uint32_t tensor_count, const std::uint8_t* table,
                 std::size_t table_size, const std::uint8_t* data, std::uint64_t data_size) {
    const std::string& path = f.path;
    ByteReader r(table, table_size, path);
    std::vector<StoredTensor> stored;
    stored.reserve(std::min<std::size_t>(tensor_count, table_size / 8));
    std::set<std::string> names;
    for (std::uint32_t i = 0; i < tensor_count; ++i) {
        stored.push_back(read_entry(r, i, f.format_version, path, data, data_size));
        if (!names.insert(stored.back().name).second)
            throw Error(path + ": tensor '" + stored.back().name + "' appears twice in the table");
    }

    const auto meta_count = r.number<std::uint32_t>("the metadata count");
    for (std::uint32_t i = 0; i < meta_count; ++i) {
        std::string key = r.text16("a metadata key");
        std::string value = r.text32("a metadata value");
        if (!f.metadata.emplace(std::move(key), std::move(value)).second)
            throw Error(path + ": a metadata key appears twice");
    }

    const auto layer_count = r.number<std::uint32_t>("the layer count");
    for (std::uint32_t i = 0; i < layer_count; ++i) {
        LayerSpec l;
        l.name = r.text16("a layer name");
        l.op = r.text16("a layer op");
        for (auto n = r.number<std::uint16_t>("an input count"); n > 0; --n) l.inputs.push_back(r.text16("an input name"));
        for (auto n = r.number<std::uint16_t>("an attribute count"); n > 0; --n) {
            std::string key = r.text16("an attribute name");
            l.ints[key] = r.number<std::int64_t>("an attribute value");
        }
        for (auto n = r.number<std::uint16_t>("an attribute count"); n > 0; --n) {
            std::string key = r.text16("an attribute name");
            l.strings[key] = r.text32("an attribute value");
        }
        for (auto n = r.number<std::uint16_t>("a tensor count"); n > 0; --n) l.tensors.push_back(r.text16("a tensor name"));
        f.layers.push_back(std::move(l));
    }
    if (f.format_version >= 3) {
        f.checksum = float32_checksum_of(f.metadata, path);
        f.expanded = std::make_unique<ExpandedWeights>(stored, f.layers, path);
        f.layers = f.expanded->layers();
        f.tensors = f.expanded->tensors();
    } else {
        f.checksum = f.content_crc;
        for (const StoredTensor& t : stored)
            f.tensors.push_back({t.name, t.dims, reinterpret_cast<const float*>(t.bytes), t.count});
    }
    for (std::size_t i = 0; i < f.tensors.size(); ++i) f.tensor_index.emplace(f.tensors[i].name, i);
    for (std::size_t i = 0; i < f.layers.size(); ++i) f.layer_index.emplace(f.layers[i].name, i);
    f.graph = LayerGraph::checked(
        f.layers,
        [&f](const std::string& name) -> const TensorRef* {
            const auto it = f.tensor_index.find(name);
            return it == f.tensor_index.end() ? nullptr : &f.tensors[it->second];
        },
        path);
    for (const std::uint8_t* p = table + r.position(); p != table + table_size; ++p)
        if (*p != 0) throw Error(path + ": unexpected bytes after the graph, before the data section (file is damaged)");
}

}  // namespace

struct WeightFile::Impl : LoadedWeights {};

WeightFile WeightFile::open(const std::string& path, DataCheck data) {
    auto f = std::make_unique<Impl>();
    f->path = path;
    f->mapping = MappedFile(path);
    f->bytes = f->mapping.data();
    f->size = f->mapping.size();
    WeightFile file = validated(std::move(f));
    if (data == DataCheck::at_open) {
        file.verify_data();
        file.make_values_readable();
    }
    return file;
}

WeightFile WeightFile::from_memory(const void* bytes, std::size_t size, const std::string& name) {
    if (!bytes && size != 0) throw Error(name + ": no weight bytes given");
    auto f = std::make_unique<Impl>();
    f->path = name;
    // Tensors are views into the bytes and must be 64-byte aligned like in a mapping.
    const std::size_t rounded = (std::max<std::size_t>(size, 1) + 63) / 64 * 64;
    if (rounded < size) throw Error(name + ": " + std::to_string(size) + " bytes is too large");
    f->copy = AlignedBuffer(rounded, "a weight file given in memory");
    if (size != 0) std::memcpy(f->copy.data(), bytes, size);
    f->bytes = static_cast<const std::uint8_t*>(f->copy.data());
    f->size = size;
    WeightFile file = validated(std::move(f));
    file.verify_data();
    file.make_values_readable();
    return file;
}

WeightFile WeightFile::validated(std::unique_ptr<Impl> f) {
    const std::string& path = f->path;
    if (!host_is_little_endian())
        throw Error(path + ": this build runs on a big-endian host, and .tcw files are read only on little-endian hosts");
    const std::uint8_t* base = f->bytes;
    const std::uint64_t actual = f->size;

    if (actual < sizeof tcw::kMagic || std::memcmp(base, tcw::kMagic, sizeof tcw::kMagic) != 0)
        throw Error(path + ": not a tinception weight file (wrong magic bytes)");
    if (actual < tcw::kOffHeaderSize)
        throw Error(path + ": truncated: " + std::to_string(actual) + " bytes, shorter than the header");
    const auto version = load_le<std::uint32_t>(base + tcw::kOffVersion);
    if (version > tcw::kNewestFormat)
        throw Error(path + ": weight file format " + std::to_string(version) + " is newer than this build reads (" +
                    std::to_string(tcw::kNewestFormat) + "); upgrade tinception");
    if (version < tcw::kOldestFormat)
        throw Error(path + ": weight file format " + std::to_string(version) + " is older than this build reads (" +
                    std::to_string(tcw::kOldestFormat) + "); re-run weights/fetch_weights.sh, or tools/convert_weights on the source model");
    f->format_version = version;
    if (actual < tcw::kHeaderSize)
        throw Error(path + ": truncated: " + std::to_string(actual) + " bytes, shorter than the " +
                    std::to_string(tcw::kHeaderSize) + "-byte header");
    const auto header_crc = load_le<std::uint32_t>(base + tcw::kOffHeaderCrc);
    if (crc32(base, tcw::kOffHeaderCrc) != header_crc)
        throw Error(path + ": header checksum mismatch (expected " + hex32(header_crc) + ", computed " +
                    hex32(crc32(base, tcw::kOffHeaderCrc)) + "); the file is damaged");

    const auto header_size = load_le<std::uint32_t>(base + tcw::kOffHeaderSize);
    const auto tensor_count = load_le<std::uint32_t>(base + tcw::kOffTensorCount);
    const auto alignment = load_le<std::uint32_t>(base + tcw::kOffAlignment);
    const auto table_offset = load_le<std::uint64_t>(base + tcw::kOffTableOffset);
    const auto data_offset = load_le<std::uint64_t>(base + tcw::kOffDataOffset);
    const auto data_size = load_le<std::uint64_t>(base + tcw::kOffDataSize);
    const auto file_size = load_le<std::uint64_t>(base + tcw::kOffFileSize);
    if (file_size != actual)
        throw Error(path + ": truncated or padded: the header says " + std::to_string(file_size) +
                    " bytes, the file has " + std::to_string(actual));
    if (alignment != tcw::kDataAlignment)
        throw Error(path + ": data alignment is " + std::to_string(alignment) + ", expected " +
                    std::to_string(tcw::kDataAlignment));
    if (header_size < tcw::kHeaderSize || header_size > table_offset)
        throw Error(path + ": header size " + std::to_string(header_size) + " is inconsistent with table offset " +
                    std::to_string(table_offset));
    if (table_offset > data_offset || data_offset > file_size || data_size != file_size - data_offset)
        throw Error(path + ": sections out of range (table at " + std::to_string(table_offset) + ", data at " +
                    std::to_string(data_offset) + " of " + std::to_string(data_size) + " bytes, file of " +
                    std::to_string(file_size) + " bytes)");
    if (data_offset % alignment != 0)
        throw Error(path + ": data offset " + std::to_string(data_offset) + " is not a multiple of " +
                    std::to_string(alignment));

    const std::uint8_t* table = base + table_offset;
    const std::size_t table_size = std::size_t(data_offset - table_offset);
    const auto table_crc = load_le<std::uint32_t>(base + tcw::kOffTableCrc);
    if (crc32(table, table_size) != table_crc)
        throw Error(path + ": table checksum mismatch (expected " + hex32(table_crc) + ", computed " +
                    hex32(crc32(table, table_size)) + "); the file is damaged");
    const std::uint8_t* data = base + data_offset;
    f->content_crc = load_le<std::uint32_t>(base + tcw::kOffContentCrc);
    f->table_offset = table_offset;
    f->data_offset = data_offset;

    parse_table(*f, tensor_count, table, table_size, data, data_size);
    return WeightFile(std::move(f));
}

WeightFile::WeightFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WeightFile::WeightFile(WeightFile&&) noexcept = default;
WeightFile& WeightFile::operator=(WeightFile&&) noexcept = default;
WeightFile::~WeightFile() = default;

const std::string& WeightFile::path() const { return impl_->path; }
const std::vector<LayerSpec>& WeightFile::layers() const { return impl_->layers; }
const LayerGraph& WeightFile::graph() const { return impl_->graph; }
const std::vector<TensorRef>& WeightFile::tensors() const { return impl_->tensors; }
const std::map<std::string, std::string>& WeightFile::metadata() const { return impl_->metadata; }
std::uint32_t WeightFile::checksum() const { return impl_->checksum; }
std::uint32_t WeightFile::file_checksum() const { return impl_->content_crc; }
bool WeightFile::expands_at_load() const { return impl_->expanded != nullptr; }
std::uint64_t WeightFile::file_size() const { return impl_->size; }
std::uint32_t WeightFile::format_version() const { return impl_->format_version; }
const FileIdentity& WeightFile::identity() const {
    return impl_->mapping.data() ? impl_->mapping.identity() : impl_->no_identity;
}

void WeightFile::verify_data() const {
    const std::lock_guard<std::mutex> lock(impl_->verify_mutex);
    if (impl_->data_verified) return;
    verify_content(*impl_);
    if (impl_->expanded) {
        const std::uint32_t computed = impl_->expanded->float32_checksum(impl_->metadata);
        if (computed != impl_->checksum)
            throw Error(impl_->path + ": expands to float32 weights with checksum " + hex32(computed) +
                        ", but the file says " + hex32(impl_->checksum) + "; the file is damaged");
    }
    impl_->data_verified = true;
    drop_resident_pages();  // the check read every page; what the network then touches stays
}

void WeightFile::make_values_readable() const {
    if (!impl_->expanded) return;
    verify_data();
    const std::lock_guard<std::mutex> lock(impl_->verify_mutex);
    impl_->expanded->expand_conv_weights();
}

void WeightFile::make_values_readable(const TensorRef& tensor) const {
    if (!impl_->expanded) return;
    verify_data();
    const std::lock_guard<std::mutex> lock(impl_->verify_mutex);
    impl_->expanded->expand_tensor(tensor.data);
}

void WeightFile::drop_resident_pages() const { impl_->mapping.drop_resident_pages(); }

bool WeightFile::data_verified() const {
    const std::lock_guard<std::mutex> lock(impl_->verify_mutex);
    return impl_->data_verified;
}

const LayerSpec& WeightFile::layer(const std::string& name) const {
    const auto it = impl_->layer_index.find(name);
    if (it == impl_->layer_index.end()) throw Error(impl_->path + ": has no layer named '" + name + "'");
    return impl_->layers[it->second];
}

bool WeightFile::has_tensor(const std::string& name) const { return impl_->tensor_index.count(name) != 0; }

const TensorRef& WeightFile::tensor(const std::string& name) const {
    const auto it = impl_->tensor_index.find(name);
    if (it == impl_->tensor_index.end()) throw Error(impl_->path + ": has no tensor named '" + name + "'");
    return impl_->tensors[it->second];
}

}  // namespace tinception
