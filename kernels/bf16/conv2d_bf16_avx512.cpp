// AVX-512 BF16 convolution: vdpbf16ps adds two bf16 x bf16 products into each fp32 lane, 32
// multiply-adds per instruction, twice an fp32 FMA's. Tiles of 14 output pixels x 32 output
// channels in 28 zmm accumulators; each step broadcasts a pixel's next pair of bf16 inputs
// against two weight vectors of [16 oc][2 k]. Layers with an even number of input channels
// run directly: per group of output rows (about 64 pixels), the input rows their windows cover
// are converted to bf16 once, zero-padded, and read per kernel cell at a fixed stride; each
// weight panel then serves the whole group. Others, and stride-1 1x1 layers,
// gather rows of up to kChunk pixels (im2col) in bf16, zero-padded to a whole pair: a 1x1
// layer's chunk is its conversion, and its tiles then run across output rows, where rows of
// 17 or 8 pixels left tiles of 3 or 8 (0.87-0.9x the time on the 17x17 and 8x8 1x1 layers).
// Equal bit for bit to conv2d_bf16_ref.
#include <immintrin.h>

#include <cstring>

#include "bf16/bf16.hpp"
#include "bf16/conv2d_bf16.hpp"
#include "bf16/dpbf16_avx512.hpp"
#include "output_row_groups.hpp"
#include "row_tiles.hpp"

namespace tinception::kernels {
namespace {

constexpr int kRows = 14;
constexpr int kPanel = 32;
constexpr int kChunk = 7 * kRows;

int reduction_length(const Conv2dArgs& a) { return a.kernel_h * a.kernel_w * a.in_c; }
int pairs(const Conv2dArgs& a) { return (reduction_length(a) + 1) / 2; }
int panels(const Conv2dArgs& a) { return (a.out_c + kPanel - 1) / kPanel; }
bool pointwise(const Conv2dArgs& a) { return a.kernel_h == 1 && a.kernel_w == 1 && a.stride_h == 1 && a.stride_w == 1; }
bool runs_direct(const Conv2dArgs& a) { return a.in_c % 2 == 0 && !pointwise(a); }

std::size_t packed_size(const Conv2dArgs& a) { return std::size_t(panels(a)) * std::size_t(pairs(a)) * kPanel * 2 * 2; }

// [panel][pair][32 oc][2 k] bf16, k in (ky, kx, ic) order, zero past out_c and past K.
void pack(const Conv2dArgs& a, void* packed) {
    const int k_total = reduction_length(a), p_total = pairs(a);
    auto* out = static_cast<std::uint16_t*>(packed);
    for (int p = 0; p < panels(a); ++p)
        for (int q = 0; q < p_total; ++q)
            for (int j = 0; j < kPanel; ++j)
                for (int e = 0; e < 2; ++e) {
                    const int oc = p * kPanel + j, k = 2 * q + e;
                    std::uint16_t w = 0;
                    if (oc < a.out_c && k < k_total) {
                        const int ic = k % a.in_c, kx = k / a.in_c % a.kernel_w, ky = k / a.in_c / a.kernel_w;
                        w = bf16::from_float(a.weights[((long(oc) * a.in_c + ic) * a.kernel_h + ky) * a.kernel_w + kx]);
                    }
                    *out++ = w;
                }
}

// Floats from the packed weights' start to the panel of first_channel (a multiple of 32).
std::size_t packed_offset(const Conv2dArgs& a, int first_channel) {
    return std::size_t(first_channel / kPanel) * std::size_t(pairs(a)) * kPanel;  // 32 pairs of bf16 = 32 floats
}

// The bf16 rows (a window or an im2col chunk), then, without packed weights, room to pack.
std::size_t rows_bytes(const Conv2dArgs& a) {
    const std::size_t elements = runs_direct(a) ? std::size_t(window_rows(a, group_rows(a))) * std::size_t(window_row_values(a))
                                                : std::size_t(kChunk) * std::size_t(pairs(a)) * 2;
    return (elements * sizeof(std::uint16_t) + 63) / 64 * 64;
}

std::size_t workspace_size(const Conv2dArgs& a) { return rows_bytes(a) + (a.packed ? 0 : packed_size(a)); }

// `count` fp32 values to bf16, nearest even.
void convert(const float* in, std::uint16_t* out, int count) {
    int i = 0;
    for (; i + 16 <= count; i += 16)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(in + i)));
    if (i < count) {
        const __mmask16 mask = __mmask16((1u << (count - i)) - 1);
        _mm256_mask_storeu_epi16(out + i, mask, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, in + i)));
    }
}

// The input rows output rows [oy, oy + rows) of image b read, in bf16, zero-padded.
void fill_window(const Conv2dArgs& a, int in_stride, int b, int oy, int rows, std::uint16_t* window) {
    const long row = window_row_values(a);
    const long c = a.in_c;
    for (int ky = 0; ky < window_rows(a, rows); ++ky) {
        std::uint16_t* dst = window + ky * row;
        const int iy = oy * a.stride_h + ky - a.pad_top;
        if (iy < 0 || iy >= a.in_h) {
            std::memset(dst, 0, std::size_t(row) * 2);
            continue;
        }
        std::memset(dst, 0, std::size_t(a.pad_left * c) * 2);
        dst += a.pad_left * c;
        const float* src = a.input + (long(b) * a.in_h + iy) * a.in_w * in_stride;
        if (in_stride == a.in_c)
            convert(src, dst, int(a.in_w * c));
        else
            for (int x = 0; x < a.in_w; ++x) convert(src + long(x) * in_stride, dst + x * c, int(c));
        std::memset(dst + a.in_w * c, 0, std::size_t(pad_right(a) * c) * 2);
    }
}

// Rows [p0, p0 + count) of the im2col matrix in bf16, row_length elements each (K rounded up
// to a pair), in NHW pixel order.
void im2col(const Conv2dArgs& a, int in_stride, long p0, int count, std::uint16_t* rows, int row_length) {
    for (int r = 0; r < count; ++r) {
        const long p = p0 + r;
        const int b = int(p / (long(a.out_h) * a.out_w));
        const int oy = int(p / a.out_w % a.out_h), ox = int(p % a.out_w);
        std::uint16_t* row = rows + long(r) * row_length;
        for (int ky = 0; ky < a.kernel_h; ++ky) {
            const int iy = oy * a.stride_h + ky - a.pad_top;
            for (int kx = 0; kx < a.kernel_w; ++kx, row += a.in_c) {
                const int ix = ox * a.stride_w + kx - a.pad_left;
                if (iy >= 0 && iy < a.in_h && ix >= 0 && ix < a.in_w)
                    convert(a.input + ((long(b) * a.in_h + iy) * a.in_w + ix) * in_stride, row, a.in_c);
                else
                    std::memset(row, 0, std::size_t(a.in_c) * 2);
            }
        }
        std::memset(row, 0, std::size_t(rows + long(r + 1) * row_length - row) * 2);
    }
}

// One tile: `rows` pixels lda elements apart; per kernel cell (cells_h x cells_w, steps apart)
// `cell_pairs` pairs of k; a packed panel; 32 output channels (width valid), ldo floats apart.
struct Tile {
    const std::uint16_t* a;
    long lda;
    int cells_h = 1, cells_w = 1;
    long cell_row_step = 0, cell_col_step = 0;
    int cell_pairs;
    const std::uint16_t* panel;
    const float* bias;  // [32], zero past width
    float* out;
    long ldo;
    __mmask16 mask0, mask1;
    bool relu;
};

template <int Rows>
void bf16_tile(const Tile& t) {
    // Unrolled, so the accumulators are registers from the start (rolled, GCC zeroes a stack
    // copy of them with rep stos and loads it, for every tile).
    __m512 acc0[Rows], acc1[Rows];
#pragma GCC unroll 14
    for (int i = 0; i < Rows; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
    const std::uint16_t* b = t.panel;
    const long lda = t.lda;
    const int cell_pairs = t.cell_pairs;
    for (int ky = 0; ky < t.cells_h; ++ky)
        for (int kx = 0; kx < t.cells_w; ++kx) {
            const std::uint16_t* a = t.a + ky * t.cell_row_step + kx * t.cell_col_step;
            for (int q = 0; q < cell_pairs; ++q, a += 2, b += 2 * kPanel) {
                const __m512i w0 = _mm512_loadu_si512(b);
                const __m512i w1 = _mm512_loadu_si512(b + 32);
                for (int i = 0; i < Rows; ++i) {
                    std::int32_t pair;
                    std::memcpy(&pair, a + i * lda, 4);
                    const __m512i x = _mm512_set1_epi32(pair);
                    acc0[i] = dpbf16(acc0[i], x, w0);
                    acc1[i] = dpbf16(acc1[i], x, w1);
                }
            }
        }
    const __m512 bias0 = _mm512_loadu_ps(t.bias), bias1 = _mm512_loadu_ps(t.bias + 16);
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 14
    for (int i = 0; i < Rows; ++i) {
        __m512 v0 = _mm512_add_ps(acc0[i], bias0), v1 = _mm512_add_ps(acc1[i], bias1);
        // The zero-masking form: GCC 12 flags the undefined pass-through of _mm512_max_ps.
        if (t.relu) v0 = _mm512_maskz_max_ps(0xFFFF, v0, zero), v1 = _mm512_maskz_max_ps(0xFFFF, v1, zero);
        _mm512_mask_storeu_ps(t.out + i * t.ldo, t.mask0, v0);
        _mm512_mask_storeu_ps(t.out + i * t.ldo + 16, t.mask1, v1);
    }
}

using TileFn = void (*)(const Tile&);
constexpr TileFn kTileByRows[kRows + 1] = {
    nullptr,      bf16_tile<1>,  bf16_tile<2>,  bf16_tile<3>,  bf16_tile<4>,  bf16_tile<5>,  bf16_tile<6>, bf16_tile<7>,
    bf16_tile<8>, bf16_tile<9>,  bf16_tile<10>, bf16_tile<11>, bf16_tile<12>, bf16_tile<13>, bf16_tile<14>,
};

// Points t at panel `panel` of `packed`, its bias (zero past out_c) and store masks.
void set_panel(const Conv2dArgs& a, const std::uint16_t* packed, int panel, float* bias, Tile& t) {
    const int width = a.out_c - panel * kPanel < kPanel ? a.out_c - panel * kPanel : kPanel;
    for (int j = 0; j < kPanel; ++j) bias[j] = j < width && a.bias ? a.bias[panel * kPanel + j] : 0.0f;
    t.mask0 = width >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << width) - 1);
    t.mask1 = width >= 32 ? __mmask16(0xFFFF) : width > 16 ? __mmask16((1u << (width - 16)) - 1) : __mmask16(0);
    t.panel = packed + long(panel) * pairs(a) * kPanel * 2;
    t.bias = bias;
}

void conv2d_bf16_avx512(const Conv2dArgs& a) {
    const int in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    const long pixels_per_image = long(a.out_h) * a.out_w, end = a.n * pixels_per_image;
    auto* const work = static_cast<std::uint16_t*>(a.workspace);
    // Without packed weights, pack them into the workspace's tail.
    const auto* packed = static_cast<const std::uint16_t*>(a.packed);
    if (!packed) {
        void* tail = static_cast<unsigned char*>(a.workspace) + rows_bytes(a);
        pack(a, tail);
        packed = static_cast<const std::uint16_t*>(tail);
    }
    alignas(64) float bias[kPanel];
    Tile t;
    t.relu = a.relu;
    t.ldo = out_stride;
    if (runs_direct(a)) {
        t.lda = long(a.stride_w) * a.in_c;
        t.cells_h = a.kernel_h;
        t.cells_w = a.kernel_w;
        t.cell_row_step = window_row_values(a);
        t.cell_col_step = a.in_c;
        t.cell_pairs = a.in_c / 2;
        const int most_rows = group_rows(a);
        for (long row = 0; row < end;) {
            const int oy = int(row / a.out_w % a.out_h);
            const int group = most_rows < a.out_h - oy ? most_rows : a.out_h - oy;  // within one image
            fill_window(a, in_stride, int(row / pixels_per_image), oy, group, work);
            for (int panel = 0; panel < panels(a); ++panel) {
                set_panel(a, packed, panel, bias, t);
                for (int r = 0; r < group; ++r)
                    for_each_row_tile<kRows>(a.out_w, [&](int ox, int rows) {
                        t.a = work + long(r) * a.stride_h * window_row_values(a) + long(ox) * a.stride_w * a.in_c;
                        t.out = a.output + (row + long(r) * a.out_w + ox) * out_stride + panel * kPanel;
                        kTileByRows[rows](t);
                    });
            }
            row += long(group) * a.out_w;
        }
        return;
    }
    const int row_length = pairs(a) * 2;
    t.lda = row_length;
    t.cell_pairs = pairs(a);
    for (long p0 = 0; p0 < end; p0 += kChunk) {
        const int count = int(end - p0 < kChunk ? end - p0 : kChunk);
        im2col(a, in_stride, p0, count, work, row_length);
        for (int panel = 0; panel < panels(a); ++panel) {
            set_panel(a, packed, panel, bias, t);
            for (int r0 = 0; r0 < count; r0 += kRows) {
                t.a = work + long(r0) * row_length;
                t.out = a.output + (p0 + r0) * out_stride + panel * kPanel;
                kTileByRows[count - r0 < kRows ? count - r0 : kRows](t);
            }
        }
    }
}

}  // namespace

// The AVX-512 table's pooling and the rest, with this convolution (bf16_tables.cpp).
void set_bf16_conv2d(KernelTable& t) {
    t.conv2d = conv2d_bf16_avx512;
    t.conv2d_packed_size = packed_size;
    t.conv2d_pack = pack;
    t.conv2d_workspace_size = workspace_size;
    t.conv2d_panel_width = kPanel;
    t.conv2d_packed_offset = packed_offset;
    t.conv2d_row_alignment = nullptr;
    t.conv2d_path = [](const Conv2dArgs& a) { return runs_direct(a) ? "bf16_direct" : "bf16_im2col"; };
}

}  // namespace tinception::kernels
