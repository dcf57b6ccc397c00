// Which bin of a log-scale histogram (kBinsPerOctave bins an octave, from 2^kLowestOctave up)
// a positive float falls in: floor((log2(v) - kLowestOctave) * kBinsPerOctave), clamped to
// the histogram, read from the float's exponent and mantissa bits with a table instead of a
// log2 per value (calibration bins every activation of every calibration image).
#pragma once
#include <cstdint>
#include <cstring>

namespace tinception {

constexpr int kBinsPerOctave = 64;
constexpr int kLowestOctave = -24, kOctaves = 48;
constexpr int kLog2Bins = kBinsPerOctave * kOctaves;

class Log2BinTable {
public:
    static constexpr int kMantissaBits = 23;
    static constexpr int kCellBits = 10;  // cells of the mantissa narrower than the closest two bin edges

    // v > 0 and not NaN; values below 2^kLowestOctave land in bin 0, above the last octave
    // (infinity too) in the last bin.
    int bin(float v) const {
        std::uint32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        const int exponent = int(bits >> kMantissaBits) - 127;  // subnormals: -127, far below bin 0
        const std::uint32_t mantissa = bits & ((1u << kMantissaBits) - 1);
        int k = cell_bin_[mantissa >> (kMantissaBits - kCellBits)];
        if (mantissa >= first_[k + 1]) ++k;  // at most one edge lies inside a cell
        const long at = long(exponent - kLowestOctave) * kBinsPerOctave + k;
        return at < 0 ? 0 : at >= kLog2Bins ? kLog2Bins - 1 : int(at);
    }

private:
    friend const Log2BinTable& log2_bin_table();
    Log2BinTable();

    // Per octave (all alike: a power of two only shifts log2 by a whole number), the first
    // mantissa of each bin, and per cell of the mantissa's top bits the bin of its first mantissa.
    std::uint32_t first_[kBinsPerOctave + 1] = {};
    std::uint8_t cell_bin_[1u << kCellBits] = {};
};

const Log2BinTable& log2_bin_table();

inline int log2_bin(float v) { return log2_bin_table().bin(v); }

// The same by std::log2 in double: the definition the table is built from and tested against.
int log2_bin_by_log2(float v);

}  // namespace tinception
