// Convolution weights in one kernel table's layout, shared read-only by every Network built on
// the same weight file and table (C API contexts, worker threads), so N networks hold one
// packed copy, not N. A layer is packed the first time a network asks for it.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "aligned_buffer.hpp"
#include "kernel_table.hpp"

namespace tinception {

class WeightFile;

class PackedWeights {
public:
    // `weights` must outlive this object (and every Network that uses it).
    PackedWeights(const WeightFile& weights, const kernels::KernelTable& table);
    PackedWeights(const PackedWeights&) = delete;
    PackedWeights& operator=(const PackedWeights&) = delete;

    const WeightFile& weights() const { return weights_; }
    const kernels::KernelTable& table() const { return table_; }

    // Conv2d layer `layer_index` (of weights().graph()) in the table's layout, packed on the
    // first call (thread-safe; the bytes never change afterwards); null when the table reads
    // OIHW. `args` is the layer's geometry for one image.
    const void* conv2d(int layer_index, const kernels::Conv2dArgs& args) const;
    std::size_t packed_bytes() const;  // what the layers packed so far hold

private:
    const WeightFile& weights_;
    const kernels::KernelTable& table_;
    mutable std::mutex mutex_;
    mutable std::vector<AlignedBuffer> packed_;  // by layer index; empty until asked for
};

}  // namespace tinception
