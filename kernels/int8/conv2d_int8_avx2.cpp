// AVX2 int8 convolutions, two ways of multiplying u8 activations by s8 weights without ever
// saturating, each with the requantizing epilogue and exactly equal to conv2d_int8_ref.
//  - wide (the avx2 table): full 8-bit weights (|w| <= 127). Activations are widened to 16
//    bits and multiplied by 16-bit weights in vpmaddwd, whose pair sums (2 * 255 * 127) fit.
//    Per pair of k, a pixel's two 16-bit inputs are broadcast against [16 oc][2 k] weights.
//  - bytes (the avx2_7bit table): 7-bit weights (|w| <= 63) so that vpmaddubsw's s16 pair
//    sums (2 * 255 * 64 = 32640) fit, then vpmaddwd by ones into int32: half the multiply
//    instructions per product on paper, one bit less of weight precision.
// Both: 6 output pixels x 16 output channels in 12 int32 accumulators. bytes reads 1x1
// stride-1 layers in place; otherwise rows of up to kChunk pixels are gathered (im2col, or
// for wide a widening copy of 1x1 pixels) into the workspace, zero-padded to whole groups of k.
#include <immintrin.h>

#include <cstring>

#include "int8/conv2d_int8_layout.hpp"
#include "int8/int8_kernel_table.hpp"

namespace tinception::kernels {
namespace {

constexpr int kRows = 6;
constexpr int kPanel = 16;
constexpr int kChunk = 96;  // pixels per im2col block: 16 tiles, a few hundred KB at most

int panels(const Conv2dInt8Args& a) { return panels<kPanel>(a); }

std::size_t workspace_size_bytes(const Conv2dInt8Args& a) {
    return reads_in_place(a) ? 0 : std::size_t(kChunk) * std::size_t(quads(a)) * 4;
}

// Rows [p0, p0 + count) of the im2col matrix, each row_length elements (u8, or u16 for
// wide), in NHW pixel order.
template <typename T>
void im2col(const Conv2dInt8Args& a, int in_stride, long p0, int count, T* rows, int row_length) {
    for (int r = 0; r < count; ++r) {
        const long p = p0 + r;
        const int b = int(p / (long(a.out_h) * a.out_w));
        const int oy = int(p / a.out_w % a.out_h), ox = int(p % a.out_w);
        T* row = rows + long(r) * row_length;
        for (int ky = 0; ky < a.kernel_h; ++ky) {
            const int iy = oy * a.stride_h + ky - a.pad_top;
            for (int kx = 0; kx < a.kernel_w; ++kx, row += a.in_c) {
                const int ix = ox * a.stride_w + kx - a.pad_left;
                const bool inside = iy >= 0 && iy < a.in_h && ix >= 0 && ix < a.in_w;
                const std::uint8_t* in = a.input + ((long(b) * a.in_h + iy) * a.in_w + ix) * in_stride;
                for (int ic = 0; ic < a.in_c; ++ic) row[ic] = inside ? T(in[ic]) : T(0);
            }
        }
        for (T* end = rows + long(r + 1) * row_length; row < end; ++row) *row = 0;
    }
}

inline __m256i quad_product(__m256i acc, std::int32_t pixel_bytes, __m256i w, __m256i ones) {
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_set1_epi32(pixel_bytes), w);  // |pair| <= 32640
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
}

// acc[r][h] = sums for rows[r] and channels [16*panel + 8h, +8). `tail` bytes (0..3) follow
// the full quads in each row; the weights past K are zero, so they are read as a last quad.
void tile_sums(const std::uint8_t* const* rows, const std::int8_t* panel, int full_quads, int tail,
               __m256i acc[kRows][2]) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (int q = 0; q < full_quads; ++q) {
        const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + q * 64));
        const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + q * 64 + 32));
        for (int r = 0; r < kRows; ++r) {
            std::int32_t v;
            std::memcpy(&v, rows[r] + q * 4, 4);
            acc[r][0] = quad_product(acc[r][0], v, w0, ones);
            acc[r][1] = quad_product(acc[r][1], v, w1, ones);
        }
    }
    if (tail == 0) return;
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + full_quads * 64));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + full_quads * 64 + 32));
    for (int r = 0; r < kRows; ++r) {
        std::int32_t v = 0;
        std::memcpy(&v, rows[r] + full_quads * 4, std::size_t(tail));
        acc[r][0] = quad_product(acc[r][0], v, w0, ones);
        acc[r][1] = quad_product(acc[r][1], v, w1, ones);
    }
}

// fma(float(acc), scale, bias) for 16 channels, then stored as u8 or float (channels < width).
void store_row(const Conv2dInt8Args& a, const __m256i acc[2], const float* scale, const float* bias, void* out,
               int width) {
    __m256 v[2];
    for (int h = 0; h < 2; ++h)
        v[h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[h]), _mm256_loadu_ps(scale + 8 * h), _mm256_loadu_ps(bias + 8 * h));
    if (a.float_output) {
        alignas(32) float values[kPanel];
        for (int h = 0; h < 2; ++h)
            _mm256_store_ps(values + 8 * h, a.relu ? _mm256_max_ps(v[h], _mm256_setzero_ps()) : v[h]);
        std::memcpy(out, values, sizeof(float) * std::size_t(width));
        return;
    }
    __m256i q[2];
    for (int h = 0; h < 2; ++h)
        q[h] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v[h], _mm256_setzero_ps()), _mm256_set1_ps(255.0f)));
    const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[0], q[1]), 0xD8);
    const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
    if (width == kPanel) {
        _mm_storeu_si128(static_cast<__m128i*>(out), bytes);
    } else {
        alignas(16) std::uint8_t values[kPanel];
        _mm_store_si128(reinterpret_cast<__m128i*>(values), bytes);
        std::memcpy(out, values, std::size_t(width));
    }
}

void conv2d_int8_bytes_avx2(const Conv2dInt8Args& a) {
    const int in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const int out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    const std::size_t out_bytes = a.float_output ? sizeof(float) : 1;
    const long end = a.pixel_end ? a.pixel_end : long(a.n) * a.out_h * a.out_w;
    const int q_total = quads(a), panel_bytes = q_total * 64;
    const bool in_place = reads_in_place(a);
    const int full_quads = in_place ? a.in_c / 4 : q_total, tail = in_place ? a.in_c % 4 : 0;
    auto* const rows_buffer = static_cast<std::uint8_t*>(a.workspace);
    const auto* const packed = static_cast<const std::int8_t*>(a.packed);
    auto* const output = static_cast<unsigned char*>(a.output);
    alignas(32) float scale[kPanel], bias[kPanel];
    for (long p0 = a.pixel_begin; p0 < end; p0 += kChunk) {
        const int count = int(end - p0 < kChunk ? end - p0 : kChunk);
        if (!in_place) im2col(a, in_stride, p0, count, rows_buffer, q_total * 4);
        for (int panel = 0; panel < panels(a); ++panel) {
            const int width = channel_block<kPanel>(a, panel, scale, bias);
            for (int r0 = 0; r0 < count; r0 += kRows) {
                const int valid = count - r0 < kRows ? count - r0 : kRows;
                const std::uint8_t* rows[kRows];
                for (int r = 0; r < kRows; ++r) {
                    const long row = r0 + (r < valid ? r : valid - 1);  // repeat the last row, not stored
                    rows[r] = in_place ? a.input + (p0 + row) * in_stride : rows_buffer + row * q_total * 4;
                }
                __m256i acc[kRows][2];
                tile_sums(rows, packed + long(panel) * panel_bytes, full_quads, tail, acc);
                for (int r = 0; r < valid; ++r)
                    store_row(a, acc[r], scale, bias,
                              output + ((p0 + r0 + r) * out_stride + panel * kPanel) * long(out_bytes), width);
            }
        }
    }
}

// Wide: [panel][pair][16 oc][2 k] s16, zero past out_c and past K.
int pairs(const Conv2dInt8Args& a) { return (reduction_length(a) + 1) / 2; }

std::size_t packed_size_wide(const Conv2dInt8Args& a) { return std::size_t(panels(a)) * std::size_t(pairs(a)) * 64; }

void pack_wide(const Conv2dInt8Args& a, void* packed) {
    const int k_total = reduction_length(a), p_total = pairs(a);
    auto* out = static_cast<std::int16_t*>(packed);
    for (int p = 0; p < panels(a); ++p)
        for (int q = 0; q < p_total; ++q)
            for (int j = 0; j < kPanel; ++j)
                for (int b = 0; b < 2; ++b) {
                    const int oc = p * kPanel + j, k = q * 2 + b;
                    *out++ = oc < a.out_c && k < k_total ? a.weights[long(oc) * k_total + k] : std::int16_t(0);
                }
}

std::size_t workspace_size_wide(const Conv2dInt8Args& a) {
    return std::size_t(kChunk) * std::size_t(pairs(a)) * 2 * sizeof(std::uint16_t);
}

void tile_sums_wide(const std::uint16_t* const* rows, const std::int16_t* panel, int pair_count,
                    __m256i acc[kRows][2]) {
    for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (int q = 0; q < pair_count; ++q) {
        const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + q * 32));
        const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + q * 32 + 16));
        for (int r = 0; r < kRows; ++r) {
            std::int32_t v;
            std::memcpy(&v, rows[r] + q * 2, 4);
            const __m256i x = _mm256_set1_epi32(v);
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(x, w0));
            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(x, w1));
        }
    }
}

void conv2d_int8_wide_avx2(const Conv2dInt8Args& a) {
    const int in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const int out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    const std::size_t out_bytes = a.float_output ? sizeof(float) : 1;
    const long end = a.pixel_end ? a.pixel_end : long(a.n) * a.out_h * a.out_w;
    const int p_total = pairs(a), row_length = p_total * 2;
    auto* const rows_buffer = static_cast<std::uint16_t*>(a.workspace);
    const auto* const packed = static_cast<const std::int16_t*>(a.packed);
    auto* const output = static_cast<unsigned char*>(a.output);
    alignas(32) float scale[kPanel], bias[kPanel];
    for (long p0 = a.pixel_begin; p0 < end; p0 += kChunk) {
        const int count = int(end - p0 < kChunk ? end - p0 : kChunk);
        im2col(a, in_stride, p0, count, rows_buffer, row_length);
        for (int panel = 0; panel < panels(a); ++panel) {
            const int width = channel_block<kPanel>(a, panel, scale, bias);
            for (int r0 = 0; r0 < count; r0 += kRows) {
                const int valid = count - r0 < kRows ? count - r0 : kRows;
                const std::uint16_t* rows[kRows];
                for (int r = 0; r < kRows; ++r)  // repeat the last row, not stored
                    rows[r] = rows_buffer + long(r0 + (r < valid ? r : valid - 1)) * row_length;
                __m256i acc[kRows][2];
                tile_sums_wide(rows, packed + long(panel) * p_total * 32, p_total, acc);
                for (int r = 0; r < valid; ++r)
                    store_row(a, acc[r], scale, bias,
                              output + ((p0 + r0 + r) * out_stride + panel * kPanel) * long(out_bytes), width);
            }
        }
    }
}

}  // namespace

void maxpool2d_u8_avx2(const Pool2dU8Args& a);  // pool2d_u8_avx2.cpp
void avgpool2d_u8_avx2(const Pool2dU8Args& a);
void quantize_u8_avx2(const float* in, long pixels, int c, float offset, float scale, std::uint8_t* out,
                      int out_stride);

const Int8KernelTable& avx2_int8_table_unchecked() {
    static const Int8KernelTable table = [] {
        Int8KernelTable t;
        t.isa_name = "avx2";
        t.weight_max = 127;
        t.conv2d = conv2d_int8_wide_avx2;
        t.conv2d_packed_size = packed_size_wide;
        t.conv2d_pack = pack_wide;
        t.conv2d_workspace_size = workspace_size_wide;
        t.maxpool2d = maxpool2d_u8_avx2;
        t.avgpool2d = avgpool2d_u8_avx2;
        t.copy_channels = copy_channels_u8_ref;
        t.quantize_u8 = quantize_u8_avx2;
        t.log2_histogram = log2_histogram_ref;
        return t;
    }();
    return table;
}

const Int8KernelTable& avx2_7bit_int8_table_unchecked() {
    static const Int8KernelTable table = [] {
        Int8KernelTable t = avx2_int8_table_unchecked();
        t.isa_name = "avx2_7bit";
        t.weight_max = 63;
        t.conv2d = conv2d_int8_bytes_avx2;
        t.conv2d_packed_size = quad_packed_size<kPanel>;
        t.conv2d_pack = pack_quads<kPanel>;
        t.conv2d_workspace_size = workspace_size_bytes;
        return t;
    }();
    return table;
}

}  // namespace tinception::kernels
