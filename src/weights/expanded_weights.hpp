// The float32 view of a format-3 (8-bit) weight file: its uint8 tensors expanded and each
// batch normalisation folded into its conv2d with the converter's own arithmetic
// (batch_norm_fold.hpp), giving the layers and tensors of the float32 file converted from the
// same source, bit for bit. Everything small is expanded at open; conv2d weights, nearly all
// of the bytes, only on expand_conv_weights() or a tensor at a time on expand_tensor(), so a
// start-up that maps packed weights from the cache never touches them, and one that packs the
// layers up to mixed5 expands only theirs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "weights/weight_file.hpp"

namespace tinception {

// One tensor as a format-3 file stores it, a view into the file's bytes.
struct StoredTensor {
    std::string name;
    std::uint8_t dtype = 0;  // tcw::kDtypeFloat32 or tcw::kDtypeUint8
    std::vector<std::int64_t> dims;
    const std::uint8_t* bytes = nullptr;
    std::size_t count = 0;
    double scale = 0.0, min = 0.0;  // uint8 only
};

class ExpandedWeights {
public:
    ExpandedWeights() = default;
    // Checks which tensors each layer names (a conv2d with `batch_norm_epsilon` names its
    // weights, optional bias, optional gamma and beta, moving_mean and moving_variance),
    // lays the float32 tensors out as a format-2 data section and fills all but the conv2d
    // weights. Throws Error naming `path` and the layer.
    ExpandedWeights(const std::vector<StoredTensor>& stored, const std::vector<LayerSpec>& stored_layers,
                    const std::string& path);

    const std::vector<LayerSpec>& layers() const { return layers_; }  // as a format-2 file has them
    std::vector<TensorRef>& tensors() { return tensors_; }            // in layer order, views into this object

    // Fills every conv2d weight tensor not yet filled (expanded, folded). Not thread-safe:
    // WeightFile locks.
    void expand_conv_weights();
    // Fills the one tensor whose values start at `data` when it is a conv2d weight tensor not
    // yet filled; nothing otherwise. Not thread-safe, as above.
    void expand_tensor(const float* data);
    // The format-2 file's checksum (CRC-32 of its table and data) for these layers and tensors
    // with `metadata`. Conv2d weights not yet filled are expanded a tensor at a time into
    // scratch for it, so checking a file does not hold all of its float32 values at once.
    std::uint32_t float32_checksum(const std::map<std::string, std::string>& metadata) const;

private:
    struct LazyWeights {
        std::size_t tensor = 0;    // index into tensors_
        StoredTensor stored;
        std::vector<double> fold;  // batch-norm factor per output channel; empty: none
        bool filled = false;
    };
    void fill(const LazyWeights& w, float* values) const;
    std::vector<LayerSpec> layers_;
    std::vector<TensorRef> tensors_;
    std::vector<std::uint64_t> offsets_;  // of each tensor in data_
    std::uint64_t data_size_ = 0;
    AlignedBuffer data_;
    std::vector<LazyWeights> lazy_;  // in tensor order
};

}  // namespace tinception
