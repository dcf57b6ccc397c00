#include "quant/int8_layer_weights.hpp"

#include <cstring>
#include <filesystem>

#include "model/layer_args.hpp"
#include "quant/int8_packed_cache.hpp"
#include "weights/weight_file.hpp"

namespace tinception {

Int8LayerWeights::Int8LayerWeights(const WeightFile& weights, const kernels::Int8KernelTable& table,
                                   const kernels::KernelTable& fp32_table, const PackedCacheChoice& cache,
                                   const std::vector<int>& layers)
    : weights_(weights), table_(table), fp32_table_(fp32_table),
      caching_(cache.use && table.conv2d_pack && table.conv2d_packed_size) {
    if (!caching_) return;
    key_ = int8_packed_cache_key(weights, table, fp32_table);
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

const void* Int8LayerWeights::stem(const Layer& l, const ActivationShape& in) {
    kernels::Conv2dArgs f = conv_args(l, in, 1, in.c, l.shape.c);
    const bool packs = fp32_table_.conv2d_pack && fp32_table_.conv2d_packed_size;
    const std::size_t size = packs ? fp32_table_.conv2d_packed_size(f) : 0;
    const int layer = weights_.graph().index_of(l.name);
    bool damaged = false;
    if (const void* stored = cache_ && packs ? cache_->layer(layer, size, &damaged) : nullptr) return stored;
    weights_.verify_data();
    weights_.make_values_readable(*l.weights);
    if (!packs) return nullptr;  // the table reads the float weights
    Made& m = make(layer);
    m.packed = AlignedBuffer(size, "int8 network's fp32 stem weights");
    fp32_table_.conv2d_pack(f, m.packed.data());
    return m.packed.data();
}

Int8LayerWeights::Conv Int8LayerWeights::conv(const Layer& l, const ActivationShape& in) {
    kernels::Conv2dInt8Args a;
    set_window(a, l, in, 1, in.c, l.shape.c);
    a.in_c = in.c;
    a.out_c = l.shape.c;
    // A cache entry holds the scales in front of the packed weights.
    const std::size_t scales_bytes = caching_ ? int8_scales_bytes(l.shape.c) : 0;
    const std::size_t packed_bytes = table_.conv2d_packed_size ? table_.conv2d_packed_size(a) : 0;
    const int layer = weights_.graph().index_of(l.name);
    bool damaged = false;
    if (const void* stored = cache_ ? cache_->layer(layer, scales_bytes + packed_bytes, &damaged) : nullptr)
        return {static_cast<const float*>(stored), nullptr, static_cast<const unsigned char*>(stored) + scales_bytes};
    make_readable();
    Made& m = make(layer);
    m.quantized = quantize_conv_weights(l, in.c, table_.weight_max);
    Conv c{m.quantized.weight_scale.data(), m.quantized.ohwi.data(), nullptr};
    if (!table_.conv2d_pack) return c;  // the table reads the OHWI weights
    a.weights = m.quantized.ohwi.data();
    m.packed = AlignedBuffer(scales_bytes + packed_bytes, "int8 packed weights", AlignedBuffer::Pages::huge);
    auto* bytes = static_cast<unsigned char*>(m.packed.data());
    std::memset(bytes, 0, scales_bytes);
    std::memcpy(bytes, c.weight_scale, scales_bytes ? sizeof(float) * std::size_t(l.shape.c) : 0);
    table_.conv2d_pack(a, bytes + scales_bytes);
    c.packed = bytes + scales_bytes;
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
