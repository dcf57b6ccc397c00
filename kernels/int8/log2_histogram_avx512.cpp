// Calibration's histogram, sixteen values at a time: each positive value's bin is computed in
// a vector (one gather from the table of mantissa cells), the positive lanes' bins are packed
// together in the register and stored to a short list, and the list is counted in scalar code
// (a scatter would lose the increments of lanes sharing a bin). Equal, count for count, to
// log2_histogram_ref.
#include <immintrin.h>

#include <cstring>

#include "int8/int8_kernel_table.hpp"
#include "int8/log2_bins.hpp"

namespace tinception::kernels {

// GCC 12's AVX-512 integer intrinsics pass their builtins a deliberately undefined vector
// (`__Y = __Y`), which its own uninitialized-use warnings then flag.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

std::uint64_t log2_histogram_avx512(const float* values, long pixels, int channels, int pixel_stride,
                                    std::uint64_t* counts, float* largest) {
    constexpr int kListLength = 256;
    const std::uint32_t* cells = log2_bin_table().cells();
    alignas(64) std::uint32_t found[kListLength + 16];
    std::int32_t start;
    std::memcpy(&start, largest, sizeof start);
    __m512i top = _mm512_set1_epi32(start);
    const __m512i mantissa_bits = _mm512_set1_epi32((1 << Log2BinTable::kMantissaBits) - 1);
    const __m512i in_cell = _mm512_set1_epi32(int(Log2BinTable::kInCell));
    const __m512i low_byte = _mm512_set1_epi32(0xFF);
    const __m512i one = _mm512_set1_epi32(1);
    // bin = (exponent field - 127 - kLowestOctave) * kBinsPerOctave + k
    const __m512i exponent_base = _mm512_set1_epi32(127 + kLowestOctave);
    const __m512i last_bin = _mm512_set1_epi32(kLog2Bins - 1);
    const __m512i zero = _mm512_setzero_si512();
    std::uint64_t positives = 0;
    int n = 0;
    auto count_list = [&] {
        for (int i = 0; i < n; ++i) ++counts[found[i]];
        positives += std::uint64_t(n);
        n = 0;
    };
    for (long p = 0; p < pixels; ++p) {
        const float* pixel = values + p * pixel_stride;
        for (int c = 0; c < channels; c += 16) {
            const __mmask16 lanes = channels - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (channels - c)) - 1);
            const __m512 v = _mm512_maskz_loadu_ps(lanes, pixel + c);
            const __mmask16 positive = _mm512_mask_cmp_ps_mask(lanes, v, _mm512_setzero_ps(), _CMP_GT_OQ);
            const __m512i bits = _mm512_castps_si512(v);
            top = _mm512_mask_max_epi32(top, positive, top, bits);
            const __m512i mantissa = _mm512_and_si512(bits, mantissa_bits);
            const __m512i cell = _mm512_mask_i32gather_epi32(zero, positive,
                                                             _mm512_srli_epi32(mantissa, Log2BinTable::kCellShift),
                                                             cells, 4);
            const __mmask16 past_edge =
                _mm512_cmpge_epu32_mask(_mm512_and_si512(mantissa, in_cell), _mm512_srli_epi32(cell, 8));
            const __m512i k = _mm512_mask_add_epi32(_mm512_and_si512(cell, low_byte), past_edge,
                                                    _mm512_and_si512(cell, low_byte), one);
            const __m512i octave = _mm512_sub_epi32(_mm512_srli_epi32(bits, Log2BinTable::kMantissaBits), exponent_base);
            __m512i bin = _mm512_add_epi32(_mm512_slli_epi32(octave, 6), k);
            static_assert(kBinsPerOctave == 64, "the shift above multiplies by kBinsPerOctave");
            bin = _mm512_min_epi32(_mm512_max_epi32(bin, zero), last_bin);
            _mm512_storeu_si512(found + n, _mm512_maskz_compress_epi32(positive, bin));
            n += __builtin_popcount(positive);
            if (n > kListLength - 16) count_list();
        }
    }
    count_list();
    const std::int32_t most = _mm512_reduce_max_epi32(top);
    std::memcpy(largest, &most, sizeof most);
    return positives;
}

#pragma GCC diagnostic pop

}  // namespace tinception::kernels
