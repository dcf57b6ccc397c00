// Calibration's histogram, one value at a time. Half of a ReLU's outputs are zero, at random:
// a branch on each value would mispredict that often, so every value's bin is written to a
// short list whose end only the positive ones advance, and the list is counted afterwards.
// The largest is compared as bits: positive floats order like their bits as integers.
#include <algorithm>
#include <cstring>

#include "int8/int8_kernel_table.hpp"
#include "int8/log2_bins.hpp"

namespace tinception::kernels {

std::uint64_t log2_histogram_ref(const float* values, long pixels, int channels, int pixel_stride,
                                 std::uint64_t* counts, float* largest) {
    constexpr int kListLength = 256;
    static_assert(kLog2Bins <= 65536, "a bin must fit the list's 16 bits");
    const Log2BinTable& table = log2_bin_table();
    std::uint16_t found[kListLength];
    std::uint64_t positives = 0;
    std::int32_t top;
    std::memcpy(&top, largest, sizeof top);
    for (long p = 0; p < pixels; ++p) {
        const float* pixel = values + p * pixel_stride;
        for (int c0 = 0; c0 < channels; c0 += kListLength) {
            const int c1 = std::min(channels, c0 + kListLength);
            int n = 0;
            for (int c = c0; c < c1; ++c) {
                const float v = pixel[c];
                std::int32_t bits;
                std::memcpy(&bits, &v, sizeof bits);
                const bool positive = v > 0.0f;  // false for NaN
                found[n] = std::uint16_t(table.bin(v));
                n += int(positive);
                top = positive && bits > top ? bits : top;
            }
            positives += std::uint64_t(n);
            for (int i = 0; i < n; ++i) ++counts[found[i]];
        }
    }
    std::memcpy(largest, &top, sizeof top);
    return positives;
}

}  // namespace tinception::kernels
