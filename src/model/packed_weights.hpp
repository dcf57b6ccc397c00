// Convolution weights in one kernel table's layout, shared read-only by every Network built on
// the same weight file and table (C API contexts, worker threads), so N networks hold one
// packed copy, not N. The layers come from a packed-weights cache file when one is used
// (packed_cache.hpp), else a layer is packed in memory the first time a network asks for it.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "kernel_table.hpp"

namespace tinception {

class WeightFile;
class PackedCacheFile;

// Whether a model keeps its packed weights in a cache file between runs, and where.
struct PackedCacheChoice {
    bool use = true;
    std::string dir;  // empty: default_packed_cache_dir()
};

class PackedWeights {
public:
    // Packs in memory, on demand. Verifies the weights' data first when open() deferred it.
    // `weights` must outlive this object (and every Network that uses it).
    PackedWeights(const WeightFile& weights, const kernels::KernelTable& table);
    // Through the cache file for these weights, table and packing in `cache_dir`: mapped when it
    // is there and sound; else built (the weights' data verified first, then every conv layer
    // packed and written atomically) and mapped. A cache that cannot be written is no error:
    // the layers are packed in memory. An entry found damaged when first used is packed in
    // memory and the file rebuilt for the next run. Throws only for damaged weights.
    static std::shared_ptr<const PackedWeights> cached(const WeightFile& weights, const kernels::KernelTable& table,
                                                       const std::string& cache_dir);
    // cached() for choice.use (choice.dir, or the default folder), else the constructor.
    static std::shared_ptr<const PackedWeights> make(const WeightFile& weights, const kernels::KernelTable& table,
                                                     const PackedCacheChoice& choice);
    ~PackedWeights();
    PackedWeights(const PackedWeights&) = delete;
    PackedWeights& operator=(const PackedWeights&) = delete;

    const WeightFile& weights() const { return weights_; }
    const kernels::KernelTable& table() const { return table_; }

    // Conv2d layer `layer_index` (of weights().graph()) in the table's layout, packed on the
    // first call (thread-safe; the bytes never change afterwards); null when the table reads
    // OIHW. `args` is the layer's geometry for one image.
    const void* conv2d(int layer_index, const kernels::Conv2dArgs& args) const;
    std::size_t packed_bytes() const;  // what the layers packed in memory so far hold

    // How the layers are got, for start-up figures and tests.
    enum class Source { memory, cache_mapped, cache_built };
    Source source() const { return source_; }
    const std::string& cache_path() const { return cache_path_; }  // empty: no cache
    const std::string& cache_note() const { return cache_note_; }  // why the cache was (re)built or not used

private:
    PackedWeights(const WeightFile& weights, const kernels::KernelTable& table, bool verify);
    void rebuild_cache() const;

    const WeightFile& weights_;
    const kernels::KernelTable& table_;
    mutable std::mutex mutex_;
    mutable std::vector<AlignedBuffer> packed_;  // by layer index; empty until asked for
    mutable std::unique_ptr<PackedCacheFile> cache_;  // null: every layer packed in memory
    mutable bool cache_rebuilt_ = false;
    Source source_ = Source::memory;
    std::string cache_path_, cache_note_;
    std::uint32_t cache_weights_checksum_ = 0;
    std::uint64_t cache_fingerprint_ = 0;
};

}  // namespace tinception
