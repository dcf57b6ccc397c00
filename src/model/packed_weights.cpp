// Packing on first use, under a lock, or the layers of a mapped cache file; see packed_weights.hpp.
#include "model/packed_weights.hpp"

#include <cstring>
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
                                                           const std::string& cache_dir, bool copy_mapped) {
    std::shared_ptr<PackedWeights> p(new PackedWeights(weights, table, false));
    p->copy_mapped_ = copy_mapped;
    if (copy_mapped) p->copied_.resize(p->packed_.size());
    const PackedCacheKey key{weights.checksum(), table.isa_name, packing_fingerprint(weights.graph(), table),
                             weights.identity(), weights.format_version() >= 3};
    p->cache_key_ = key;
    p->cache_path_ = (std::filesystem::path(cache_dir) / packed_cache_file_name(key)).string();
    p->cache_ = PackedCacheFile::open(p->cache_path_, key, &p->cache_note_);
    if (p->cache_) {
        p->source_ = Source::cache_mapped;  // the file records that these very weights were verified
        return p;
    }
    // Packed from verified data only, so a damaged weight file is refused here as at any open.
    weights.verify_data();
    p->source_ = Source::cache_built;
    p->unsaved_ = true;  // a file is written even when the table packs nothing, so the next run maps
    return p;
}

std::shared_ptr<const PackedWeights> PackedWeights::make(const WeightFile& weights, const kernels::KernelTable& table,
                                                         const PackedCacheChoice& choice) {
    if (!choice.use) return std::make_shared<const PackedWeights>(weights, table);
    return cached(weights, table, choice.dir.empty() ? default_packed_cache_dir() : choice.dir, choice.copy_mapped);
}

const void* PackedWeights::conv2d(int layer_index, const kernels::Conv2dArgs& args) const {
    if (!table_.conv2d_pack || !table_.conv2d_packed_size) {
        weights_.make_values_readable();  // the network reads the OIHW weights
        return nullptr;
    }
    const std::lock_guard<std::mutex> lock(mutex_);
    AlignedBuffer& packed = packed_.at(std::size_t(layer_index));
    if (packed.data()) return packed.data();
    const std::size_t size = table_.conv2d_packed_size(args);
    if (cache_) {
        bool damaged = false;
        if (const void* mapped = cache_->layer(layer_index, size, &damaged)) {
            if (!copy_mapped_) return mapped;
            AlignedBuffer& copy = copied_[std::size_t(layer_index)];
            if (!copy.data()) {
                copy = AlignedBuffer(size, "packed convolution weights", AlignedBuffer::Pages::huge);
                std::memcpy(copy.data(), mapped, size);
            }
            return copy.data();
        }
        if (damaged) {
            damaged_.resize(packed_.size(), 0);
            damaged_[std::size_t(layer_index)] = 1;
        }
    }
    // An 8-bit file's conv2d weights are expanded on demand, this layer's only.
    weights_.make_values_readable(*weights_.graph().layers()[std::size_t(layer_index)].weights);
    AlignedBuffer fresh(size, "packed convolution weights", AlignedBuffer::Pages::huge);
    table_.conv2d_pack(args, fresh.data());
    packed = std::move(fresh);
    unsaved_ = !cache_path_.empty();
    return packed.data();
}

void PackedWeights::check_cached(const std::vector<int>& layer_indices) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (cache_) cache_->check_layers(layer_indices);
}

// The layers already handed out stay where they are (the old mapping, which cache_ keeps, or
// memory); only the file is replaced.
void PackedWeights::save_cache() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!unsaved_) return;
    unsaved_ = false;
    std::vector<PackedLayerBytes> layers;
    for (std::size_t i = 0; i < packed_.size(); ++i)
        if (packed_[i].data()) layers.push_back({std::uint32_t(i), packed_[i].data(), packed_[i].size(), {}});
    // Nothing is written from unverified weights: a mapped file's identity vouches only for
    // the data as it was when that file was built. Damaged weights are refused here.
    weights_.verify_data();
    const std::string why_not =
        save_packed_layers(cache_path_, cache_key_, weights_.identity(), std::move(layers), cache_.get(), damaged_);
    if (!why_not.empty()) cache_note_ += std::string(cache_note_.empty() ? "" : "; ") + "not written: " + why_not;
}

std::size_t PackedWeights::packed_bytes() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::size_t total = 0;
    for (const AlignedBuffer& b : packed_) total += b.size();
    return total;
}

}  // namespace tinception
