// Convolution weights in one kernel table's layout, shared read-only by every Network built on
// the same weight file and table (C API contexts, worker threads), so N networks hold one
// packed copy, not N. The layers come from a packed-weights cache file when one is used
// (packed_cache.hpp), else a layer is packed in memory the first time a network asks for it;
// a network that packed layers the cache file lacks writes them to it (save_cache), so a file
// holds what networks have used, and a model on mixed5 never packs the layers above it.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "kernel_table.hpp"
#include "model/packed_cache.hpp"

namespace tinception {

class WeightFile;

// Whether a model keeps its packed weights in a cache file between runs, and where.
struct PackedCacheChoice {
    bool use = true;
    std::string dir;  // empty: default_packed_cache_dir()
    // Copy each mapped layer into memory of its own (2 MiB pages) when a network first asks
    // for it, for runs over many images: forwards from the file's 4 KiB pages took up to 10%
    // longer, and the copy costs what touching that much fresh memory costs, no packing
    // (bench/README.md, "Packed weights").
    bool copy_mapped = false;
};

class PackedWeights {
public:
    // Packs in memory, on demand. Verifies the weights' data first when open() deferred it.
    // `weights` must outlive this object (and every Network that uses it).
    PackedWeights(const WeightFile& weights, const kernels::KernelTable& table);
    // Through the cache file for these weights, table and packing in `cache_dir`: mapped when it
    // is there and sound; else the weights' data is verified and the layers are packed in
    // memory as networks ask for them, for save_cache() to write. A layer the file lacks, or
    // holds damaged, is packed in memory the same way. Throws only for damaged weights.
    static std::shared_ptr<const PackedWeights> cached(const WeightFile& weights, const kernels::KernelTable& table,
                                                       const std::string& cache_dir, bool copy_mapped = false);
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
    // Checks the cache file's copies of these layers at once, on every thread, before conv2d
    // asks for them one by one; nothing without a cache file.
    void check_cached(const std::vector<int>& layer_indices) const;
    std::size_t packed_bytes() const;  // what the layers packed in memory so far hold

    // When layers were packed in memory that the cache file lacks (or held damaged): writes a
    // new file with them and the file's sound layers, atomically, for the next run (this one
    // keeps using what it has). A file that cannot be written is no error: cache_note() says
    // why. Network calls it once it has its layers; thread-safe.
    void save_cache() const;

    // How the layers are got, for start-up figures and tests.
    enum class Source { memory, cache_mapped, cache_built };
    Source source() const { return source_; }
    const std::string& cache_path() const { return cache_path_; }  // empty: no cache
    const std::string& cache_note() const { return cache_note_; }  // why the cache was (re)built or not used

private:
    PackedWeights(const WeightFile& weights, const kernels::KernelTable& table, bool verify);

    const WeightFile& weights_;
    const kernels::KernelTable& table_;
    mutable std::mutex mutex_;
    mutable std::vector<AlignedBuffer> packed_;  // by layer index; empty until asked for
    bool copy_mapped_ = false;
    mutable std::vector<AlignedBuffer> copied_;  // by layer index: a mapped layer's copy, with copy_mapped_
    mutable std::unique_ptr<PackedCacheFile> cache_;  // null: no file yet, or none used
    mutable std::vector<char> damaged_;  // by layer index: the file's entry failed its hash
    mutable bool unsaved_ = false;       // layers packed in memory that the file lacks
    Source source_ = Source::memory;
    std::string cache_path_;             // empty: no cache
    mutable std::string cache_note_;
    PackedCacheKey cache_key_;  // what the cache file is named by; its identity is taken again on saving
};

}  // namespace tinception
