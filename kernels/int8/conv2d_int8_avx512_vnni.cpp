// AVX-512 VNNI int8 convolution: vpdpbusd multiplies 4 u8 activations by 4 s8 weights and adds
// the four products into an int32 lane, 64 multiply-adds per instruction with no intermediate
// saturation, so full 8-bit weights are exact (conv2d_int8_ref's sums, bit for bit).
// Tiles of 14 output pixels x 32 output channels in 28 zmm accumulators; each step broadcasts
// a pixel's next 4 bytes (a load, no shuffle) against two weight vectors of [16 oc][4 k].
// 1x1 stride-1 layers are read in place. Other layers with whole quads of input channels run
// directly: per group of output rows (about 64 pixels), the input rows their windows cover
// are copied once, zero-padded, and each kernel cell's pixels are read from there at a fixed
// stride (no im2col: for 32 input channels gathering cost several times the products); each
// weight panel then serves the whole group. The rest gather rows of up to
// kChunk pixels (im2col), zero-padded to whole quads of k. The epilogue requantizes as the
// reference does (fma, clamp, round half to even).
#include <immintrin.h>

#include <cstring>

#include "int8/conv2d_int8_layout.hpp"
#include "int8/int8_kernel_table.hpp"
#include "output_row_groups.hpp"
#include "row_tiles.hpp"

namespace tinception::kernels {
namespace {

constexpr int kRows = 14;
constexpr int kPanel = 32;
constexpr int kChunk = 7 * kRows;  // pixels per im2col block
// Pixels per weight pass of a 1x1 layer read in place: a 17x17 image in one (0.975x the int8
// time at batch 8 on two threads against 98-pixel passes).
constexpr int kInPlaceChunk = 21 * kRows;

int panels(const Conv2dInt8Args& a) { return panels<kPanel>(a); }

// Direct: whole quads per kernel cell, so the packed k order (ky, kx, ic) needs no gather.
bool runs_direct(const Conv2dInt8Args& a) { return !reads_in_place(a) && a.in_c % 4 == 0; }

std::size_t workspace_size(const Conv2dInt8Args& a) {
    if (reads_in_place(a)) return 0;
    if (runs_direct(a)) return std::size_t(window_rows(a, group_rows(a))) * std::size_t(window_row_values(a));
    return std::size_t(kChunk) * std::size_t(quads(a)) * 4;
}

// The input rows output rows [oy, oy + rows) of image b read, zero-padded left, right, and
// where they fall outside the image: window_row_values(a) each.
void fill_window(const Conv2dInt8Args& a, int in_stride, int b, int oy, int rows, std::uint8_t* window) {
    const long row_bytes = window_row_values(a);
    const std::size_t c = std::size_t(a.in_c);
    for (int ky = 0; ky < window_rows(a, rows); ++ky) {
        std::uint8_t* dst = window + ky * row_bytes;
        const int iy = oy * a.stride_h + ky - a.pad_top;
        if (iy < 0 || iy >= a.in_h) {
            std::memset(dst, 0, std::size_t(row_bytes));
            continue;
        }
        std::memset(dst, 0, std::size_t(a.pad_left) * c);
        dst += a.pad_left * long(c);
        const std::uint8_t* src = a.input + (long(b) * a.in_h + iy) * a.in_w * in_stride;
        if (in_stride == a.in_c) {
            std::memcpy(dst, src, std::size_t(a.in_w) * c);
        } else {
            for (int x = 0; x < a.in_w; ++x) std::memcpy(dst + x * long(c), src + long(x) * in_stride, c);
        }
        std::memset(dst + a.in_w * long(c), 0, std::size_t(pad_right(a)) * c);
    }
}

// Rows [p0, p0 + count) of the im2col matrix, row_length bytes each, in NHW pixel order.
void im2col(const Conv2dInt8Args& a, int in_stride, long p0, int count, std::uint8_t* rows, int row_length) {
    for (int r = 0; r < count; ++r) {
        const long p = p0 + r;
        const int b = int(p / (long(a.out_h) * a.out_w));
        const int oy = int(p / a.out_w % a.out_h), ox = int(p % a.out_w);
        std::uint8_t* row = rows + long(r) * row_length;
        for (int ky = 0; ky < a.kernel_h; ++ky) {
            const int iy = oy * a.stride_h + ky - a.pad_top;
            for (int kx = 0; kx < a.kernel_w; ++kx, row += a.in_c) {
                const int ix = ox * a.stride_w + kx - a.pad_left;
                if (iy >= 0 && iy < a.in_h && ix >= 0 && ix < a.in_w)
                    std::memcpy(row, a.input + ((long(b) * a.in_h + iy) * a.in_w + ix) * in_stride, std::size_t(a.in_c));
                else
                    std::memset(row, 0, std::size_t(a.in_c));
            }
        }
        std::memset(row, 0, std::size_t(rows + long(r + 1) * row_length - row));
    }
}

std::int32_t load_quad(const std::uint8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// One tile's operands: `rows` pixels lda bytes apart; for each of cells_h x cells_w kernel
// cells (cell_row_step and cell_col_step bytes apart) full_quads whole quads of k, then, with
// one cell, `tail` bytes (0..3) read as a last quad (the weights past K are zero); a packed
// panel; and where the 32 output channels (width of them valid) of each row go, ldo bytes apart.
struct Tile {
    const std::uint8_t* a;
    long lda;
    int cells_h = 1, cells_w = 1;
    long cell_row_step = 0, cell_col_step = 0;
    const std::int8_t* panel;
    int full_quads, tail;
    const float* scale;  // [32], zero past width
    const float* bias;
    unsigned char* out;
    long ldo;
    int width;
    bool float_output, relu;
};

// A tile's requantization constants, loaded once: a store through unsigned char* may alias
// them as far as the compiler knows, so per-row loads would be repeated for every row.
struct Epilogue {
    __m512 scale0, scale1, bias0, bias1;
    __mmask16 mask0, mask1;  // the channels < width of each half
};

inline Epilogue epilogue_of(const Tile& t) {
    const auto mask = [](int lanes) {
        return lanes >= 16 ? __mmask16(0xFFFF) : lanes <= 0 ? __mmask16(0) : __mmask16((1u << lanes) - 1);
    };
    return {_mm512_loadu_ps(t.scale), _mm512_loadu_ps(t.scale + 16), _mm512_loadu_ps(t.bias),
            _mm512_loadu_ps(t.bias + 16), mask(t.width), mask(t.width - 16)};
}

// fma(float(acc), scale, bias). Zero-masking forms throughout: GCC 12 flags the undefined
// pass-through of the plain ones.
inline __m512 requantized(__m512i acc, __m512 scale, __m512 bias) {
    return _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(0xFFFF, acc), scale, bias);
}

// As u8: clamped to [0, 255] and rounded half to even. Past 255 the unsigned saturation of
// vpmovusdb clamps (cvtps2dq's 0x80000000 for a value beyond int32 saturates to 255 too),
// which gives the bytes min(max(v, 0), 255) would.
inline void store_u8_row(const Epilogue& e, __m512i acc0, __m512i acc1, unsigned char* out) {
    const __m512 zero = _mm512_setzero_ps();
    const __m512 v0 = _mm512_maskz_max_ps(0xFFFF, requantized(acc0, e.scale0, e.bias0), zero);
    const __m512 v1 = _mm512_maskz_max_ps(0xFFFF, requantized(acc1, e.scale1, e.bias1), zero);
    _mm_mask_storeu_epi8(out, e.mask0, _mm512_maskz_cvtusepi32_epi8(0xFFFF, _mm512_maskz_cvtps_epi32(0xFFFF, v0)));
    _mm_mask_storeu_epi8(out + 16, e.mask1, _mm512_maskz_cvtusepi32_epi8(0xFFFF, _mm512_maskz_cvtps_epi32(0xFFFF, v1)));
}

template <bool Relu>
inline void store_float_row(const Epilogue& e, __m512i acc0, __m512i acc1, float* out) {
    __m512 v0 = requantized(acc0, e.scale0, e.bias0), v1 = requantized(acc1, e.scale1, e.bias1);
    if (Relu) {
        v0 = _mm512_maskz_max_ps(0xFFFF, v0, _mm512_setzero_ps());
        v1 = _mm512_maskz_max_ps(0xFFFF, v1, _mm512_setzero_ps());
    }
    _mm512_mask_storeu_ps(out, e.mask0, v0);
    _mm512_mask_storeu_ps(out + 16, e.mask1, v1);
}

// acc + the four u8 x s8 products of each int32 lane. GCC 12 compiles _mm512_dpbusd_epi32 with
// a register copy of the accumulator around every instruction and spills the tile to the
// stack (a third of peak); the instruction itself, in place, keeps all 28 in registers.
inline __m512i dpbusd(__m512i acc, __m512i u8, __m512i s8) {
    asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
    return acc;
}

// Rows x 32 int32 sums in 2 * Rows zmm accumulators, then the epilogue.
template <int Rows>
void vnni_tile(const Tile& t) {
    // Unrolled, so the accumulators are registers from the start (rolled, GCC zeroes a stack
    // copy of them with rep stos and loads it, for every tile).
    __m512i acc0[Rows], acc1[Rows];
#pragma GCC unroll 14
    for (int i = 0; i < Rows; ++i) acc0[i] = acc1[i] = _mm512_setzero_si512();
    const std::uint8_t* a = t.a;
    const std::int8_t* b = t.panel;
    const long lda = t.lda;
    const int full_quads = t.full_quads;
    for (int ky = 0; ky < t.cells_h; ++ky)
        for (int kx = 0; kx < t.cells_w; ++kx) {
            a = t.a + ky * t.cell_row_step + kx * t.cell_col_step;
            for (int q = 0; q < full_quads; ++q, a += 4, b += 4 * kPanel) {
                const __m512i w0 = _mm512_loadu_si512(b);
                const __m512i w1 = _mm512_loadu_si512(b + 64);
                for (int i = 0; i < Rows; ++i) {
                    const __m512i x = _mm512_set1_epi32(load_quad(a + i * lda));
                    acc0[i] = dpbusd(acc0[i], x, w0);
                    acc1[i] = dpbusd(acc1[i], x, w1);
                }
            }
        }
    if (t.tail) {
        const __m512i w0 = _mm512_loadu_si512(b);
        const __m512i w1 = _mm512_loadu_si512(b + 64);
        for (int i = 0; i < Rows; ++i) {
            std::int32_t v = 0;
            std::memcpy(&v, a + i * lda, std::size_t(t.tail));
            const __m512i x = _mm512_set1_epi32(v);
            acc0[i] = dpbusd(acc0[i], x, w0);
            acc1[i] = dpbusd(acc1[i], x, w1);
        }
    }
    const Epilogue e = epilogue_of(t);
    if (!t.float_output) {
#pragma GCC unroll 14
        for (int i = 0; i < Rows; ++i) store_u8_row(e, acc0[i], acc1[i], t.out + i * t.ldo);
    } else if (t.relu) {
#pragma GCC unroll 14
        for (int i = 0; i < Rows; ++i)
            store_float_row<true>(e, acc0[i], acc1[i], reinterpret_cast<float*>(t.out + i * t.ldo));
    } else {
#pragma GCC unroll 14
        for (int i = 0; i < Rows; ++i)
            store_float_row<false>(e, acc0[i], acc1[i], reinterpret_cast<float*>(t.out + i * t.ldo));
    }
}

using TileFn = void (*)(const Tile&);
constexpr TileFn kTileByRows[kRows + 1] = {
    nullptr,         vnni_tile<1>,  vnni_tile<2>,  vnni_tile<3>,  vnni_tile<4>,  vnni_tile<5>,  vnni_tile<6>, vnni_tile<7>,
    vnni_tile<8>,    vnni_tile<9>,  vnni_tile<10>, vnni_tile<11>, vnni_tile<12>, vnni_tile<13>, vnni_tile<14>,
};

// A group of output rows of one image at a time (the first and last may be partial, in
// [pixel_begin, end)): their input window copied once, then every panel's tiles, row by row,
// read the window in place.
void run_direct(const Conv2dInt8Args& a, float* scale, float* bias) {
    const int in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const int out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    const long out_bytes = a.float_output ? long(sizeof(float)) : 1;
    const long end = a.pixel_end ? a.pixel_end : long(a.n) * a.out_h * a.out_w;
    const long panel_bytes = long(quads(a)) * kPanel * 4;
    auto* const window = static_cast<std::uint8_t*>(a.workspace);
    const auto* const packed = static_cast<const std::int8_t*>(a.packed);
    auto* const output = static_cast<unsigned char*>(a.output);
    const int most_rows = group_rows(a);
    for (long p = a.pixel_begin; p < end;) {
        const int b = int(p / (long(a.out_h) * a.out_w));
        const int oy = int(p / a.out_w % a.out_h);
        const long first_row = p - p % a.out_w;  // pixel index of (b, oy, 0)
        int group = 1;
        while (group < most_rows && oy + group < a.out_h && first_row + long(group) * a.out_w < end) ++group;
        const long group_end = end < first_row + long(group) * a.out_w ? end : first_row + long(group) * a.out_w;
        fill_window(a, in_stride, b, oy, group, window);
        for (int panel = 0; panel < panels(a); ++panel) {
            const int width = channel_block<kPanel>(a, panel, scale, bias);
            for (long q = p; q < group_end;) {
                const long row_start = q - q % a.out_w, row_stop = group_end < row_start + a.out_w ? group_end : row_start + a.out_w;
                const long r = (row_start - first_row) / a.out_w;  // this output row within the group
                for_each_row_tile<kRows>(int(row_stop - q), [&](int first, int rows) {
                    const long x = q + first - row_start;  // the tile's first output column
                    Tile t;
                    t.a = window + r * a.stride_h * window_row_values(a) + x * a.stride_w * a.in_c;
                    t.lda = long(a.stride_w) * a.in_c;
                    t.cells_h = a.kernel_h;
                    t.cells_w = a.kernel_w;
                    t.cell_row_step = window_row_values(a);
                    t.cell_col_step = a.in_c;
                    t.panel = packed + panel * panel_bytes;
                    t.full_quads = a.in_c / 4;
                    t.tail = 0;
                    t.scale = scale;
                    t.bias = bias;
                    t.out = output + ((q + first) * out_stride + panel * kPanel) * out_bytes;
                    t.ldo = out_stride * out_bytes;
                    t.width = width;
                    t.float_output = a.float_output;
                    t.relu = a.relu;
                    kTileByRows[rows](t);
                });
                q = row_stop;
            }
        }
        p = group_end;
    }
}

void conv2d_int8_avx512_vnni(const Conv2dInt8Args& a) {
    const int in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const int out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    const std::size_t out_bytes = a.float_output ? sizeof(float) : 1;
    const long end = a.pixel_end ? a.pixel_end : long(a.n) * a.out_h * a.out_w;
    const int q_total = quads(a);
    const long panel_bytes = long(q_total) * kPanel * 4;
    const bool in_place = reads_in_place(a);
    const int full_quads = in_place ? a.in_c / 4 : q_total, tail = in_place ? a.in_c % 4 : 0;
    auto* const rows_buffer = static_cast<std::uint8_t*>(a.workspace);
    const auto* const packed = static_cast<const std::int8_t*>(a.packed);
    auto* const output = static_cast<unsigned char*>(a.output);
    alignas(64) float scale[kPanel], bias[kPanel];
    if (runs_direct(a)) {
        run_direct(a, scale, bias);
        return;
    }
    const long chunk = in_place ? kInPlaceChunk : kChunk;
    for (long p0 = a.pixel_begin; p0 < end; p0 += chunk) {
        const int count = int(end - p0 < chunk ? end - p0 : chunk);
        if (!in_place) im2col(a, in_stride, p0, count, rows_buffer, q_total * 4);
        for (int panel = 0; panel < panels(a); ++panel) {
            const int width = channel_block<kPanel>(a, panel, scale, bias);
            for (int r0 = 0; r0 < count; r0 += kRows) {
                const int rows = count - r0 < kRows ? count - r0 : kRows;
                Tile t;
                t.a = in_place ? a.input + (p0 + r0) * in_stride : rows_buffer + long(r0) * q_total * 4;
                t.lda = in_place ? in_stride : long(q_total) * 4;
                t.panel = packed + panel * panel_bytes;
                t.full_quads = full_quads;
                t.tail = tail;
                t.scale = scale;
                t.bias = bias;
                t.out = output + ((p0 + r0) * out_stride + panel * kPanel) * long(out_bytes);
                t.ldo = out_stride * long(out_bytes);
                t.width = width;
                t.float_output = a.float_output;
                t.relu = a.relu;
                kTileByRows[rows](t);
            }
        }
    }
}

}  // namespace

// This convolution for the VNNI table (int8_tables.cpp assembles it with its pooling and copies).
void set_avx512_vnni_conv2d(Int8KernelTable& t) {
    t.conv2d = conv2d_int8_avx512_vnni;
    t.conv2d_packed_size = quad_packed_size<kPanel>;
    t.conv2d_pack = pack_quads<kPanel>;
    t.conv2d_workspace_size = workspace_size;
}

}  // namespace tinception::kernels
