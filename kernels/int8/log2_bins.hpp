// Which bin of a log-scale histogram (kBinsPerOctave bins an octave, from 2^kLowestOctave up)
// a positive float falls in: floor((log2(v) - kLowestOctave) * kBinsPerOctave), clamped to
// the histogram, read from the float's exponent and mantissa bits with a table instead of a
// log2 per value (calibration bins every activation of every calibration image).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

namespace tinception::kernels {

constexpr int kBinsPerOctave = 64;
constexpr int kLowestOctave = -24, kOctaves = 48;
constexpr int kLog2Bins = kBinsPerOctave * kOctaves;

class Log2BinTable {
public:
    static constexpr int kMantissaBits = 23;
    static constexpr int kCellBits = 10;  // cells of the mantissa narrower than the closest two bin edges
    static constexpr int kCellShift = kMantissaBits - kCellBits;
    static constexpr std::uint32_t kInCell = (1u << kCellShift) - 1;  // a mantissa's place within its cell

    // v > 0 and not NaN; values below 2^kLowestOctave land in bin 0, above the last octave
    // (infinity too) in the last bin. Branch-free: calibration's values are half zeros, at random.
    int bin(float v) const {
        std::uint32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        const int exponent = int(bits >> kMantissaBits) - 127;  // subnormals: -127, far below bin 0
        const std::uint32_t mantissa = bits & ((1u << kMantissaBits) - 1);
        const std::uint32_t cell = cells_[mantissa >> kCellShift];
        const int k = int(cell & 0xFF) + int((mantissa & kInCell) >= (cell >> 8));
        const int at = (exponent - kLowestOctave) * kBinsPerOctave + k;
        return std::min(std::max(at, 0), kLog2Bins - 1);
    }

    // Per cell of the mantissa's top kCellBits bits: the bin (within its octave) of the cell's
    // first mantissa in the low 8 bits, and above them the place within the cell where the next
    // bin starts (kInCell + 1 when none does: at most one edge lies inside a cell). The same
    // for every octave: a power of two only shifts log2 by a whole number. For SIMD kernels.
    const std::uint32_t* cells() const { return cells_; }

private:
    friend const Log2BinTable& log2_bin_table();
    Log2BinTable();

    std::uint32_t cells_[1u << kCellBits] = {};
};

const Log2BinTable& log2_bin_table();

inline int log2_bin(float v) { return log2_bin_table().bin(v); }

// The same by std::log2 in double: the definition the table is built from and tested against.
int log2_bin_by_log2(float v);

}  // namespace tinception::kernels
