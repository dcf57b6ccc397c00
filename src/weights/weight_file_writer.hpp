// Builds a .tcw file in memory from float32 tensors, a graph and metadata; used by
// tools/convert_weights and the tests. Does not rename or protect existing files: callers do.
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
    // Layers are written in the order added, which must be topological.
    void add_layer(const LayerSpec& layer);
    void set_metadata(const std::string& key, const std::string& value);

    std::size_t tensor_count() const { return tensors_.size(); }
    std::size_t layer_count() const { return layers_.size(); }

    // The complete file. Throws Error if a name or count exceeds what the format can hold.
    std::vector<std::uint8_t> serialize() const;
    // serialize() written to `path` (created or truncated), with errno text on failure.
    void write(const std::string& path) const;

private:
    struct Tensor {
        std::string name;
        std::vector<std::int64_t> dims;
        std::vector<float> values;
    };
    std::vector<Tensor> tensors_;
    std::vector<LayerSpec> layers_;
    std::map<std::string, std::string> metadata_;
};

}  // namespace tinception
