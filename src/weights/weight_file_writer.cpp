// Serialises the .tcw layout described in weights/FORMAT.md: header, table (tensors,
// metadata, graph), zero padding, 64-byte aligned data. Little-endian hosts only, like the reader.
#include "weights/weight_file_writer.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "byte_io.hpp"
#include "error.hpp"
#include "weights/crc32.hpp"
#include "weights/tcw_format.hpp"

namespace tinception {
namespace {

// A u16-counted string or count; the limit is checked here so the message names the field.
void text16(ByteWriter& out, const std::string& s, const std::string& what) {
    if (s.size() > std::numeric_limits<std::uint16_t>::max())
        throw Error("weight file writer: " + what + " '" + s.substr(0, 40) + "...' is longer than 65535 bytes");
    out.text16(s);
}
void count16(ByteWriter& out, std::size_t n, const std::string& what) {
    if (n > std::numeric_limits<std::uint16_t>::max())
        throw Error("weight file writer: " + what + " has more than 65535 entries");
    out.number(std::uint16_t(n));
}

std::uint64_t align_up(std::uint64_t v) { return (v + tcw::kDataAlignment - 1) / tcw::kDataAlignment * tcw::kDataAlignment; }

}  // namespace

void WeightFileWriter::check_new(const std::string& name, const std::vector<std::int64_t>& dims,
                                  std::size_t count) const {
    std::uint64_t product = 1;
    for (const std::int64_t d : dims) {
        if (d < 0 || d > std::numeric_limits<std::uint32_t>::max())
            throw Error("weight file writer: tensor '" + name + "' has dimension " + std::to_string(d) +
                        ", outside 0..2^32-1");
        product *= std::uint64_t(d);
    }
    if (dims.size() > 255) throw Error("weight file writer: tensor '" + name + "' has more than 255 dimensions");
    if (product != count)
        throw Error("weight file writer: tensor '" + name + "' has " + std::to_string(count) +
                    " values but its dims hold " + std::to_string(product));
    for (const Tensor& t : tensors_)
        if (t.name == name) throw Error("weight file writer: tensor '" + name + "' added twice");
}

void WeightFileWriter::add_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                  std::vector<float> values) {
    check_new(name, dims, values.size());
    tensors_.push_back({name, dims, std::move(values), {}, 0.0, 0.0});
}

void WeightFileWriter::add_uint8_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                        std::vector<std::uint8_t> q, double scale, double min) {
    check_new(name, dims, q.size());
    if (!std::isfinite(scale) || !std::isfinite(min))
        throw Error("weight file writer: tensor '" + name + "' has a scale or min that is not finite");
    tensors_.push_back({name, dims, {}, std::move(q), scale, min});
}

void WeightFileWriter::add_layer(const LayerSpec& layer) { layers_.push_back(layer); }

void WeightFileWriter::set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

std::vector<std::uint8_t> encode_tcw_table(const std::vector<TcwEntry>& entries,
                                           const std::map<std::string, std::string>& metadata,
                                           const std::vector<LayerSpec>& layers, std::vector<std::uint64_t>* offsets,
                                           std::uint64_t* data_size) {
    if (entries.size() > std::numeric_limits<std::uint32_t>::max())
        throw Error("weight file writer: too many tensors");
    ByteWriter table;
    std::uint64_t end = 0;
    offsets->clear();
    for (const TcwEntry& t : entries) {
        end = align_up(end);
        offsets->push_back(end);
        text16(table, t.name, "tensor name");
        table.number(t.dtype);
        table.number(std::uint8_t(t.dims.size()));
        for (const std::int64_t d : t.dims) table.number(std::uint32_t(d));
        table.number(end);
        table.number(t.bytes);
        if (t.dtype == tcw::kDtypeUint8) {
            table.number(t.scale);
            table.number(t.min);
        }
        end += t.bytes;
    }
    *data_size = end;
    table.number(std::uint32_t(metadata.size()));
    for (const auto& [key, value] : metadata) {
        text16(table, key, "metadata key");
        table.string(value);
    }
    table.number(std::uint32_t(layers.size()));
    for (const LayerSpec& l : layers) {
        text16(table, l.name, "layer name");
        text16(table, l.op, "op name");
        count16(table, l.inputs.size(), "layer '" + l.name + "' inputs");
        for (const std::string& in : l.inputs) text16(table, in, "input name");
        count16(table, l.ints.size(), "layer '" + l.name + "' integer attributes");
        for (const auto& [key, value] : l.ints) {
            text16(table, key, "attribute name");
            table.number(std::int64_t(value));
        }
        count16(table, l.strings.size(), "layer '" + l.name + "' string attributes");
        for (const auto& [key, value] : l.strings) {
            text16(table, key, "attribute name");
            table.string(value);
        }
        count16(table, l.tensors.size(), "layer '" + l.name + "' tensors");
        for (const std::string& t : l.tensors) text16(table, t, "tensor name");
    }
    return table.bytes();
}

std::vector<std::uint8_t> WeightFileWriter::serialize() const {
    // Format 3 only when needed, so a float32 file stays what format 2 readers read.
    std::uint32_t version = tcw::kFloat32Format;
    std::vector<TcwEntry> entries;
    for (const Tensor& t : tensors_) {
        const bool u8 = t.values.empty() && !t.q.empty();
        if (u8) version = tcw::kNewestFormat;
        entries.push_back({t.name, u8 ? tcw::kDtypeUint8 : tcw::kDtypeFloat32, t.dims,
                           u8 ? t.q.size() : t.values.size() * sizeof(float), t.scale, t.min});
    }
    for (const LayerSpec& l : layers_)
        if (l.strings.count(tcw::kBatchNormEpsilon)) version = tcw::kNewestFormat;
    std::vector<std::uint64_t> offsets;
    std::uint64_t data_size = 0;
    const std::vector<std::uint8_t> table = encode_tcw_table(entries, metadata_, layers_, &offsets, &data_size);

    const std::uint64_t table_offset = tcw::kHeaderSize;
    const std::uint64_t data_offset = align_up(table_offset + table.size());
    const std::uint64_t file_size = data_offset + data_size;
    std::vector<std::uint8_t> file(file_size, 0);
    std::memcpy(file.data() + table_offset, table.data(), table.size());
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
        const Tensor& t = tensors_[i];
        if (!t.values.empty())
            std::memcpy(file.data() + data_offset + offsets[i], t.values.data(), t.values.size() * sizeof(float));
        else if (!t.q.empty())
            std::memcpy(file.data() + data_offset + offsets[i], t.q.data(), t.q.size());
    }

    auto put = [&file](std::size_t at, auto v) { store_le(file.data() + at, v); };
    std::memcpy(file.data(), tcw::kMagic, sizeof tcw::kMagic);
    put(tcw::kOffVersion, version);
    put(tcw::kOffHeaderSize, std::uint32_t(tcw::kHeaderSize));
    put(tcw::kOffTensorCount, std::uint32_t(tensors_.size()));
    put(tcw::kOffAlignment, tcw::kDataAlignment);
    put(tcw::kOffTableOffset, table_offset);
    put(tcw::kOffDataOffset, data_offset);
    put(tcw::kOffDataSize, data_size);
    put(tcw::kOffFileSize, file_size);
    put(tcw::kOffTableCrc, crc32(file.data() + table_offset, std::size_t(data_offset - table_offset)));
    put(tcw::kOffContentCrc, crc32(file.data() + table_offset, std::size_t(file_size - table_offset)));
    put(tcw::kOffHeaderCrc, crc32(file.data(), tcw::kOffHeaderCrc));
    return file;
}

void WeightFileWriter::write(const std::string& path) const {
    const std::vector<std::uint8_t> bytes = serialize();
    std::FILE* out = std::fopen(path.c_str(), "wb");
    if (!out) throw Error(path + ": cannot create: " + std::strerror(errno));
    const bool wrote = std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size();
    const int write_errno = errno;
    const bool closed = std::fclose(out) == 0;
    if (!wrote || !closed)
        throw Error(path + ": write failed: " + std::strerror(wrote ? errno : write_errno), ErrorKind::internal);
}

}  // namespace tinception
