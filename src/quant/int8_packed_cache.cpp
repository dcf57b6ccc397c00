#include "quant/int8_packed_cache.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

#include "weights/weight_file.hpp"
#include "weights/xxh64.hpp"

namespace tinception {

namespace {

// Bump when quantize_conv_weights rounds differently (cached scales and s8 values would no
// longer be what quantizing gives) or an entry's layout changes. 2: the level sums; the RGB
// stem in int8, its input channels padded to four. 3: channels on a grid of levels keep it.
constexpr std::uint64_t kQuantizationVersion = 3;

// A few channels of a 1x1, a 3x3/2 and a 1x7 layer with fixed s8 weights, packed: packing code
// that changes layout changes these bytes.
std::uint64_t probe_packing(const kernels::Int8KernelTable& table) {
    struct Shape { int kh, kw, stride, in_c, out_c; };
    const Shape shapes[] = {{1, 1, 1, 40, 48}, {3, 3, 2, 12, 40}, {1, 7, 1, 20, 36}};
    std::vector<std::uint64_t> parts;
    for (const Shape& s : shapes) {
        kernels::Conv2dInt8Args a;
        a.n = 1;
        a.in_h = a.in_w = 9;
        a.kernel_h = s.kh;
        a.kernel_w = s.kw;
        a.stride_h = a.stride_w = s.stride;
        a.out_h = (a.in_h - s.kh) / s.stride + 1;
        a.out_w = (a.in_w - s.kw) / s.stride + 1;
        a.in_c = s.in_c;
        a.out_c = s.out_c;
        std::vector<std::int8_t> weights(std::size_t(s.out_c) * s.kh * s.kw * s.in_c);
        for (std::size_t i = 0; i < weights.size(); ++i)
            weights[i] = std::int8_t(int(i * 7919 % 255) - 127 > table.weight_max ? table.weight_max
                                                                                  : int(i * 7919 % 255) - 127);
        a.weights = weights.data();
        const std::size_t size = table.conv2d_packed_size(a);
        std::vector<unsigned char> packed(size, 0);
        table.conv2d_pack(a, packed.data());
        parts.push_back(size);
        parts.push_back(xxh64(packed.data(), packed.size()));
    }
    return xxh64(parts.data(), parts.size() * sizeof(std::uint64_t));
}

}  // namespace

PackedCacheKey int8_packed_cache_key(const WeightFile& weights, const kernels::Int8KernelTable& table) {
    PackedCacheKey key;
    key.weights_checksum = weights.checksum();
    key.table_name = std::string("i8_") + table.isa_name;
    std::vector<std::uint64_t> parts = {xxh64(table.isa_name, std::strlen(table.isa_name)),
                                        std::uint64_t(table.weight_max), kQuantizationVersion};
    if (table.conv2d_pack && table.conv2d_packed_size) parts.push_back(probe_packing(table));
    key.fingerprint = xxh64(parts.data(), parts.size() * sizeof(std::uint64_t));
    key.weights_identity = weights.identity();
    key.weights_8bit = weights.format_version() >= 3;
    return key;
}

std::size_t int8_scales_bytes(int out_c) { return (std::size_t(out_c) * sizeof(float) + 63) / 64 * 64; }

}  // namespace tinception
