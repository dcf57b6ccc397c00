#include "int8/log2_bins.hpp"

#include <cmath>
#include <stdexcept>

namespace tinception::kernels {
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
    std::uint32_t first[kBinsPerOctave + 1] = {};  // the first mantissa of each bin
    for (int k = 1; k < kBinsPerOctave; ++k) {
        std::uint32_t lo = first[k - 1], hi = 1u << kMantissaBits;  // the first mantissa with bin >= k
        while (lo < hi) {
            const std::uint32_t mid = lo + (hi - lo) / 2;
            if (bin_in_octave(mid) >= k)
                hi = mid;
            else
                lo = mid + 1;
        }
        first[k] = lo;
    }
    first[kBinsPerOctave] = 1u << kMantissaBits;
    for (std::uint32_t c = 0; c < (1u << kCellBits); ++c) {
        const std::uint32_t start = c << kCellShift, end = start + kInCell + 1;
        const int k = bin_in_octave(start);
        const std::uint32_t next = first[k + 1];
        if (k + 2 <= kBinsPerOctave && first[k + 2] < end) throw std::logic_error("log2 bins: two edges in a cell");
        cells_[c] = std::uint32_t(k) | (next < end ? next - start : kInCell + 1) << 8;
    }
}

const Log2BinTable& log2_bin_table() {
    static const Log2BinTable table;
    return table;
}

int log2_bin_by_log2(float v) {
    const long at = long(std::floor((std::log2(double(v)) - kLowestOctave) * kBinsPerOctave));
    return int(std::clamp(at, 0L, long(kLog2Bins) - 1));
}

}  // namespace tinception::kernels
