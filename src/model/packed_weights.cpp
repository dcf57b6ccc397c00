// Packing on first use, under a lock; see packed_weights.hpp.
#include "model/packed_weights.hpp"

#include "weights/layer_graph.hpp"
#include "weights/weight_file.hpp"

namespace tinception {

PackedWeights::PackedWeights(const WeightFile& weights, const kernels::KernelTable& table)
    : weights_(weights), table_(table), packed_(weights.graph().layers().size()) {}

const void* PackedWeights::conv2d(int layer_index, const kernels::Conv2dArgs& args) const {
    if (!table_.conv2d_pack || !table_.conv2d_packed_size) return nullptr;
    const std::lock_guard<std::mutex> lock(mutex_);
    AlignedBuffer& packed = packed_.at(std::size_t(layer_index));
    if (!packed.data()) {
        AlignedBuffer fresh(table_.conv2d_packed_size(args), "packed convolution weights");
        table_.conv2d_pack(args, fresh.data());
        packed = std::move(fresh);
    }
    return packed.data();
}

std::size_t PackedWeights::packed_bytes() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::size_t total = 0;
    for (const AlignedBuffer& b : packed_) total += b.size();
    return total;
}

}  // namespace tinception
