// The packed-weights cache (model/packed_cache.hpp) for the int8 network: one entry per
// convolution, its s8 weights' scales, then their level sums (each one float per output
// channel, padded to 64 bytes), then the int8 table's packed bytes. A run that maps it neither
// expands an 8-bit weight file nor quantizes anything; the activation ranges are not in it
// (they change only the epilogue).
#pragma once
#include <cstddef>
#include <string>

#include "int8/int8_kernel_table.hpp"
#include "model/packed_cache.hpp"

namespace tinception {

class WeightFile;

// Table names carry an "i8_" prefix, so an int8 file never takes an fp32 table's name. The
// fingerprint covers the table (name, weight_max), the quantization rule's and the entries'
// version, and the bytes the table packs for a few fixed small layers.
PackedCacheKey int8_packed_cache_key(const WeightFile& weights, const kernels::Int8KernelTable& table);

// Bytes of the scales, and of the level sums, in front of an entry's packed weights: out_c
// floats rounded up to 64 bytes.
std::size_t int8_scales_bytes(int out_c);

}  // namespace tinception
