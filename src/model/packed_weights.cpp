// Packing on first use, under a lock, or the layers of a mapped cache file; see packed_weights.hpp.
#include "model/packed_weights.hpp"

#include <filesystem>

#include "error.hpp"
#include "model/packed_cache.hpp"
#include "weights/layer_graph.hpp"
#include "weights/weight_file.hpp"

namespace tinception {

PackedWeights::PackedWeights(const WeightFile& weights, const kernels::KernelTable& table)
    : PackedWeights(weights, table, true) {}

PackedWeights::PackedWeights(const WeightFile& weights, const kernels::KernelTable& table, bool verify)
    : weights_(weights), table_(table), packed_(weights.graph().layers().size()) {
    if (verify) weights_.verify_data();
}

PackedWeights::~PackedWeights() = default;

std::shared_ptr<const PackedWeights> PackedWeights::cached(const WeightFile& weights,
                                                           const kernels::KernelTable& table,
                                                           const std::string& cache_dir) {
    std::shared_ptr<PackedWeights> p(new PackedWeights(weights, table, false));
    const PackedCacheKey key{weights.checksum(), table.isa_name, packing_fingerprint(weights.graph(), table),
                             weights.identity()};
    p->cache_weights_checksum_ = key.weights_checksum;
    p->cache_fingerprint_ = key.fingerprint;
    p->cache_path_ = (std::filesystem::path(cache_dir) / packed_cache_file_name(key)).string();
    p->cache_ = PackedCacheFile::open(p->cache_path_, key, &p->cache_note_);
    if (p->cache_) {
        p->source_ = Source::cache_mapped;  // the file records that these very weights were verified
        return p;
    }
    // Built from verified data only, so a damaged weight file is refused here as at any open.
    weights.verify_data();
    p->source_ = Source::cache_built;
    try {
        std::error_code ec;
        std::filesystem::create_directories(cache_dir, ec);
        write_packed_cache(p->cache_path_, key, weights.graph(), table);
        weights.drop_resident_pages();  // packing read every weight; the network reads the cache
        std::string why;
        p->cache_ = PackedCacheFile::open(p->cache_path_, key, &why);
        if (!p->cache_) p->cache_note_ += "; the new file did not open: " + why;
    } catch (const Error& e) {
        p->cache_note_ += std::string("; not written: ") + e.what();  // packed in memory instead
    }
    return p;
}

std::shared_ptr<const PackedWeights> PackedWeights::make(const WeightFile& weights, const kernels::KernelTable& table,
                                                         const PackedCacheChoice& choice) {
    if (!choice.use) return std::make_shared<const PackedWeights>(weights, table);
    return cached(weights, table, choice.dir.empty() ? default_packed_cache_dir() : choice.dir);
}

const void* PackedWeights::conv2d(int layer_index, const kernels::Conv2dArgs& args) const {
    if (!table_.conv2d_pack || !table_.conv2d_packed_size) return nullptr;
    const std::lock_guard<std::mutex> lock(mutex_);
    AlignedBuffer& packed = packed_.at(std::size_t(layer_index));
    if (packed.data()) return packed.data();
    const std::size_t size = table_.conv2d_packed_size(args);
    if (cache_) {
        bool damaged = false;
        if (const void* mapped = cache_->layer(layer_index, size, &damaged)) return mapped;
        if (damaged) rebuild_cache();
    }
    AlignedBuffer fresh(size, "packed convolution weights");
    table_.conv2d_pack(args, fresh.data());
    packed = std::move(fresh);
    return packed.data();
}

// The layers already handed out stay in the old mapping, which cache_ keeps; only the file is
// replaced, once, and this run packs whatever else it needs in memory.
void PackedWeights::rebuild_cache() const {
    if (cache_rebuilt_) return;
    cache_rebuilt_ = true;
    weights_.verify_data();
    const PackedCacheKey key{cache_weights_checksum_, table_.isa_name, cache_fingerprint_, weights_.identity()};
    try {
        write_packed_cache(cache_path_, key, weights_.graph(), table_);
    } catch (const Error&) {
        // the next run finds the damage again and tries again
    }
}

std::size_t PackedWeights::packed_bytes() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::size_t total = 0;
    for (const AlignedBuffer& b : packed_) total += b.size();
    return total;
}

}  // namespace tinception
