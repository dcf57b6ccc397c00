#include "quant/int8_layer_weights.hpp"

#include <cstring>
#include <filesystem>

#include "model/layer_args.hpp"
#include "quant/int8_packed_cache.hpp"
#include "weights/weight_file.hpp"

namespace tinception {

Int8LayerWeights::Int8LayerWeights(const WeightFile& weights, const kernels::Int8KernelTable& table,
                                   const PackedCacheChoice& cache, const std::vector<int>& layers)
    : weights_(weights), table_(table),
      caching_(cache.use && table.conv2d_pack && table.conv2d_packed_size), copy_mapped_(cache.copy_mapped) {
    if (!caching_) return;
    key_ = int8_packed_cache_key(weights, table);
    const std::string dir = cache.dir.empty() ? default_packed_cache_dir() : cache.dir;
    cache_path_ = (std::filesystem::path(dir) / packed_cache_file_name(key_)).string();
    cache_ = PackedCacheFile::open(cache_path_, key_, &cache_note_);
    if (cache_) cache_->check_layers(layers);
}

Int8LayerWeights::~Int8LayerWeights() = default;

// Quantized from the conv weights, checked first when open() deferred it (as packing fp32
// does), which an 8-bit file expands on demand.
void Int8LayerWeights::make_readable() {
    if (readable_) return;
    weights_.verify_data();
    weights_.make_values_readable();
    readable_ = true;
}

Int8LayerWeights::Made& Int8LayerWeights::make(int layer) {
    made_.emplace_back();
    made_.back().layer = layer;
    return made_.back();
}

Int8LayerWeights::Conv Int8LayerWeights::conv(const Layer& l, const ActivationShape& in, int stored_in_c) {
    kernels::Conv2dInt8Args a;
    set_window(a, l, in, 1, stored_in_c, l.shape.c);
    a.in_c = stored_in_c;
    a.out_c = l.shape.c;
    // A cache entry holds the scales and the level sums in front of the packed weights.
    const std::size_t floats_bytes = caching_ ? int8_scales_bytes(l.shape.c) : 0;
    const std::size_t packed_bytes = table_.conv2d_packed_size ? table_.conv2d_packed_size(a) : 0;
    const int layer = weights_.graph().index_of(l.name);
    bool damaged = false;
    if (const void* stored = cache_ ? cache_->layer(layer, 2 * floats_bytes + packed_bytes, &damaged) : nullptr) {
        if (copy_mapped_) {
            copied_.emplace_back(2 * floats_bytes + packed_bytes, "int8 packed weights", AlignedBuffer::Pages::huge);
            std::memcpy(copied_.back().data(), stored, 2 * floats_bytes + packed_bytes);
            stored = copied_.back().data();
        }
        const auto* bytes = static_cast<const unsigned char*>(stored);
        return {reinterpret_cast<const float*>(bytes), reinterpret_cast<const float*>(bytes + floats_bytes), nullptr,
                bytes + 2 * floats_bytes};
    }
    make_readable();
    Made& m = make(layer);
    m.quantized = quantize_conv_weights(l, in.c, table_.weight_max, stored_in_c);
    Conv c{m.quantized.weight_scale.data(), m.quantized.level_sum.data(), m.quantized.ohwi.data(), nullptr};
    if (!table_.conv2d_pack) return c;  // the table reads the OHWI weights
    a.weights = m.quantized.ohwi.data();
    m.packed = AlignedBuffer(2 * floats_bytes + packed_bytes, "int8 packed weights", AlignedBuffer::Pages::huge);
    auto* bytes = static_cast<unsigned char*>(m.packed.data());
    std::memset(bytes, 0, 2 * floats_bytes);
    if (caching_) {
        std::memcpy(bytes, c.weight_scale, sizeof(float) * std::size_t(l.shape.c));
        std::memcpy(bytes + floats_bytes, c.level_sum, sizeof(float) * std::size_t(l.shape.c));
    }
    table_.conv2d_pack(a, bytes + 2 * floats_bytes);
    c.packed = bytes + 2 * floats_bytes;
    return c;
}

// The layers keep pointing where they do: this object keeps the old mapping.
void Int8LayerWeights::save() {
    if (!caching_ || made_.empty()) return;
    std::vector<PackedLayerBytes> fresh;
    for (const Made& m : made_) fresh.push_back({std::uint32_t(m.layer), m.packed.data(), m.packed.size(), {}});
    weights_.verify_data();  // written from checked weights only, as PackedWeights::save_cache
    const std::string why_not = save_packed_layers(cache_path_, key_, weights_.identity(), std::move(fresh), cache_.get());
    cache_note_ = why_not.empty() ? (cache_note_.empty() ? "written" : cache_note_ + "; rewritten")
                                  : "not written: " + why_not;
}

}  // namespace tinception
