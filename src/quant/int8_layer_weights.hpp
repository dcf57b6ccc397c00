// Where the int8 network's convolutions get their weights: each one's s8 weights (one scale
// per output channel) packed by the int8 table. With the packed-weights cache
// (int8_packed_cache.hpp) they are mapped from its file when it holds them sound; then the
// weight file's data is neither expanded nor checked again (the file records that it was
// when the cache was built). Layers it lacks are quantized and packed here, from checked
// data, and save() rewrites the file with them.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "int8/int8_kernel_table.hpp"
#include "model/packed_cache.hpp"
#include "model/packed_weights.hpp"
#include "quant/int8_weights.hpp"

namespace tinception {

class WeightFile;
struct Layer;
struct ActivationShape;

class Int8LayerWeights {
public:
    // `layers`: graph indices of the convolutions to come, whose cache entries are checked at
    // once. The cache is used when `cache.use` and the int8 table packs; with
    // `cache.copy_mapped`, each mapped entry is copied into memory of its own (forwards from
    // the file's pages ran 2-5% slower, bench/README.md "Packed weights").
    Int8LayerWeights(const WeightFile& weights, const kernels::Int8KernelTable& table, const PackedCacheChoice& cache,
                     const std::vector<int>& layers);
    ~Int8LayerWeights();
    Int8LayerWeights(const Int8LayerWeights&) = delete;
    Int8LayerWeights& operator=(const Int8LayerWeights&) = delete;

    // A convolution's s8 weights; every pointer lives as long as this object.
    struct Conv {
        const float* weight_scale = nullptr;  // [out_c]
        const float* level_sum = nullptr;     // [out_c]: Int8ConvWeights::level_sum
        const std::int8_t* ohwi = nullptr;    // only for a table that reads them unpacked
        const void* packed = nullptr;         // the table's packing, or null when it packs nothing
    };
    // `l` reads a tensor of shape `in` whose pixels hold `stored_in_c` >= in.c channels.
    Conv conv(const Layer& l, const ActivationShape& in, int stored_in_c);
    // Once every layer was asked for: writes the cache file when some were made here.
    void save();

    const std::string& cache_path() const { return cache_path_; }  // empty: no cache
    const std::string& cache_note() const { return cache_note_; }  // why it was rebuilt or not written
    bool mapped_every_layer() const { return caching_ && made_.empty(); }

private:
    // A layer quantized or packed here; with the cache, `packed` holds the whole entry.
    struct Made {
        int layer = 0;
        Int8ConvWeights quantized;
        AlignedBuffer packed;
    };
    Made& make(int layer);
    void make_readable();

    const WeightFile& weights_;
    const kernels::Int8KernelTable& table_;
    bool caching_ = false;
    bool copy_mapped_ = false;
    bool readable_ = false;  // the weight file's data checked and its conv weights expanded
    PackedCacheKey key_;
    std::unique_ptr<PackedCacheFile> cache_;  // the mapping mapped layers point into
    std::string cache_path_, cache_note_;
    std::deque<Made> made_;  // a deque: the addresses handed out stay put
    std::vector<AlignedBuffer> copied_;  // mapped entries copied, with copy_mapped_
};

}  // namespace tinception
