// Builds a .tcw file in memory from float32 (or uint8) tensors, a graph and metadata; used by
// tools/convert_weights and the tests. A file with a uint8 tensor or a batch normalisation left
// to fold at load is format 3, any other format 2 (weights/FORMAT.md). Does not rename or protect existing files: callers do.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "weights/weight_file.hpp"

namespace tinception {

class WeightFileWriter {
public:
    // Tensors are written in the order added. Throws Error if the name is taken or
    // values.size() differs from the product of dims.
    void add_tensor(const std::string& name, const std::vector<std::int64_t>& dims, std::vector<float> values);
    // A uint8 tensor whose values are float(min + scale * q) (weights/batch_norm_fold.hpp);
    // throws Error also for a scale or min that is not finite.
    void add_uint8_tensor(const std::string& name, const std::vector<std::int64_t>& dims, std::vector<std::uint8_t> q,
                          double scale, double min);
    // Layers are written in the order added, which must be topological.
    void add_layer(const LayerSpec& layer);
    void set_metadata(const std::string& key, const std::string& value);

    std::size_t tensor_count() const { return tensors_.size(); }
    std::size_t layer_count() const { return layers_.size(); }
    const std::vector<LayerSpec>& layers() const { return layers_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

    // The complete file. Throws Error if a name or count exceeds what the format can hold.
    std::vector<std::uint8_t> serialize() const;
    // serialize() written to `path` (created or truncated), with errno text on failure.
    void write(const std::string& path) const;

private:
    struct Tensor {
        std::string name;
        std::vector<std::int64_t> dims;
        std::vector<float> values;
        std::vector<std::uint8_t> q;  // a uint8 tensor's bytes, when values is empty
        double scale = 0.0, min = 0.0;
    };
    void check_new(const std::string& name, const std::vector<std::int64_t>& dims, std::size_t count) const;
    std::vector<Tensor> tensors_;
    std::vector<LayerSpec> layers_;
    std::map<std::string, std::string> metadata_;
};

// One table entry as the format lays it out (weights/FORMAT.md, "Table").
struct TcwEntry {
    std::string name;
    std::uint8_t dtype = 1;  // tcw::kDtypeFloat32 or tcw::kDtypeUint8
    std::vector<std::int64_t> dims;
    std::uint64_t bytes = 0;
    double scale = 0.0, min = 0.0;  // uint8 only
};
// The table section (entries, metadata, graph; no padding) of a file holding these tensors,
// each placed at the next 64-byte boundary of the data section: `offsets` gets where each
// starts, `data_size` the section's size. The reader of 8-bit files builds the table of the
// float32 file they expand to with it, for its checksum.
std::vector<std::uint8_t> encode_tcw_table(const std::vector<TcwEntry>& entries,
                                           const std::map<std::string, std::string>& metadata,
                                           const std::vector<LayerSpec>& layers, std::vector<std::uint64_t>* offsets,
                                           std::uint64_t* data_size);

}  // namespace tinception
