// Serialises the .tcw layout described in weights/FORMAT.md: header, table (tensors,
// metadata, graph), zero padding, 64-byte aligned data. Little-endian hosts only, like the reader.
#include "weights/weight_file_writer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "error.hpp"
#include "weights/crc32.hpp"
#include "weights/tcw_format.hpp"

namespace tinception {
namespace {

class Bytes {
public:
    template <typename T>
    void number(T v) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
        out_.insert(out_.end(), p, p + sizeof v);
    }
    void text16(const std::string& s, const std::string& what) {
        if (s.size() > std::numeric_limits<std::uint16_t>::max())
            throw Error("weight file writer: " + what + " '" + s.substr(0, 40) + "...' is longer than 65535 bytes");
        number(std::uint16_t(s.size()));
        out_.insert(out_.end(), s.begin(), s.end());
    }
    void text32(const std::string& s) {
        if (s.size() > std::numeric_limits<std::uint32_t>::max())
            throw Error("weight file writer: a string is longer than 4 GiB");
        number(std::uint32_t(s.size()));
        out_.insert(out_.end(), s.begin(), s.end());
    }
    void count16(std::size_t n, const std::string& what) {
        if (n > std::numeric_limits<std::uint16_t>::max())
            throw Error("weight file writer: " + what + " has more than 65535 entries");
        number(std::uint16_t(n));
    }
    std::vector<std::uint8_t>& bytes() { return out_; }

private:
    std::vector<std::uint8_t> out_;
};

std::uint64_t align_up(std::uint64_t v) { return (v + tcw::kDataAlignment - 1) / tcw::kDataAlignment * tcw::kDataAlignment; }

}  // namespace

void WeightFileWriter::add_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                  std::vector<float> values) {
    std::uint64_t count = 1;
    for (const std::int64_t d : dims) {
        if (d < 0 || d > std::numeric_limits<std::uint32_t>::max())
            throw Error("weight file writer: tensor '" + name + "' has dimension " + std::to_string(d) +
                        ", outside 0..2^32-1");
        count *= std::uint64_t(d);
    }
    if (dims.size() > 255) throw Error("weight file writer: tensor '" + name + "' has more than 255 dimensions");
    if (count != values.size())
        throw Error("weight file writer: tensor '" + name + "' has " + std::to_string(values.size()) +
                    " values but its dims hold " + std::to_string(count));
    for (const Tensor& t : tensors_)
        if (t.name == name) throw Error("weight file writer: tensor '" + name + "' added twice");
    tensors_.push_back({name, dims, std::move(values)});
}

void WeightFileWriter::add_layer(const LayerSpec& layer) { layers_.push_back(layer); }

void WeightFileWriter::set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

std::vector<std::uint8_t> WeightFileWriter::serialize() const {
    if (tensors_.size() > std::numeric_limits<std::uint32_t>::max())
        throw Error("weight file writer: too many tensors");
    Bytes table;
    std::uint64_t data_size = 0;
    std::vector<std::uint64_t> offsets;
    for (const Tensor& t : tensors_) {
        data_size = align_up(data_size);
        offsets.push_back(data_size);
        table.text16(t.name, "tensor name");
        table.number(tcw::kDtypeFloat32);
        table.number(std::uint8_t(t.dims.size()));
        for (const std::int64_t d : t.dims) table.number(std::uint32_t(d));
        table.number(data_size);
        table.number(std::uint64_t(t.values.size() * sizeof(float)));
        data_size += t.values.size() * sizeof(float);
    }
    table.number(std::uint32_t(metadata_.size()));
    for (const auto& [key, value] : metadata_) {
        table.text16(key, "metadata key");
        table.text32(value);
    }
    table.number(std::uint32_t(layers_.size()));
    for (const LayerSpec& l : layers_) {
        table.text16(l.name, "layer name");
        table.text16(l.op, "op name");
        table.count16(l.inputs.size(), "layer '" + l.name + "' inputs");
        for (const std::string& in : l.inputs) table.text16(in, "input name");
        table.count16(l.ints.size(), "layer '" + l.name + "' integer attributes");
        for (const auto& [key, value] : l.ints) {
            table.text16(key, "attribute name");
            table.number(std::int64_t(value));
        }
        table.count16(l.strings.size(), "layer '" + l.name + "' string attributes");
        for (const auto& [key, value] : l.strings) {
            table.text16(key, "attribute name");
            table.text32(value);
        }
        table.count16(l.tensors.size(), "layer '" + l.name + "' tensors");
        for (const std::string& t : l.tensors) table.text16(t, "tensor name");
    }

    const std::uint64_t table_offset = tcw::kHeaderSize;
    const std::uint64_t data_offset = align_up(table_offset + table.bytes().size());
    const std::uint64_t file_size = data_offset + data_size;
    std::vector<std::uint8_t> file(file_size, 0);
    std::memcpy(file.data() + table_offset, table.bytes().data(), table.bytes().size());
    for (std::size_t i = 0; i < tensors_.size(); ++i)
        if (!tensors_[i].values.empty())
            std::memcpy(file.data() + data_offset + offsets[i], tensors_[i].values.data(),
                        tensors_[i].values.size() * sizeof(float));

    auto put = [&file](std::size_t at, auto v) { std::memcpy(file.data() + at, &v, sizeof v); };
    std::memcpy(file.data(), tcw::kMagic, sizeof tcw::kMagic);
    put(tcw::kOffVersion, tcw::kNewestFormat);
    put(tcw::kOffHeaderSize, std::uint32_t(tcw::kHeaderSize));
    put(tcw::kOffTensorCount, std::uint32_t(tensors_.size()));
    put(tcw::kOffAlignment, tcw::kDataAlignment);
    put(tcw::kOffTableOffset, table_offset);
    put(tcw::kOffDataOffset, data_offset);
    put(tcw::kOffDataSize, data_size);
    put(tcw::kOffFileSize, file_size);
    put(tcw::kOffTableCrc, crc32(file.data() + table_offset, std::size_t(data_offset - table_offset)));
    put(tcw::kOffDataCrc, crc32(file.data() + data_offset, std::size_t(data_size)));
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
