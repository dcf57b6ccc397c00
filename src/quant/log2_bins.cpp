#include "quant/log2_bins.hpp"

#include <algorithm>
#include <cmath>

namespace tinception {
namespace {

float from_bits(std::uint32_t bits) {
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

// The bin within its octave of the float in [1, 2) with this mantissa, by the definition.
int bin_in_octave(std::uint32_t mantissa) {
    return int(std::floor(std::log2(double(from_bits(0x3F800000u | mantissa))) * kBinsPerOctave));
}

}  // namespace

// The edges are found with the log2 definition itself, so both agree on every one of them.
Log2BinTable::Log2BinTable() {
    for (int k = 1; k < kBinsPerOctave; ++k) {
        std::uint32_t lo = first_[k - 1], hi = 1u << kMantissaBits;  // the first mantissa with bin >= k
        while (lo < hi) {
            const std::uint32_t mid = lo + (hi - lo) / 2;
            if (bin_in_octave(mid) >= k)
                hi = mid;
            else
                lo = mid + 1;
        }
        first_[k] = lo;
    }
    first_[kBinsPerOctave] = 1u << kMantissaBits;
    for (std::uint32_t c = 0; c < (1u << kCellBits); ++c)
        cell_bin_[c] = std::uint8_t(bin_in_octave(c << (kMantissaBits - kCellBits)));
}

const Log2BinTable& log2_bin_table() {
    static const Log2BinTable table;
    return table;
}

int log2_bin_by_log2(float v) {
    const long at = long(std::floor((std::log2(double(v)) - kLowestOctave) * kBinsPerOctave));
    return int(std::clamp(at, 0L, long(kLog2Bins) - 1));
}

}  // namespace tinception
