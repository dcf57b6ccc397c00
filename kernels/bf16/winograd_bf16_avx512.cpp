// Winograd convolutions with bf16 products: the AVX-512 table's transforms, in fp32, around
// products taken by vdpbf16ps. Each block's transformed inputs are rounded to bf16 pairs of
// consecutive input channels (nearest even) where they stand, the transformed weights are
// packed as pairs, and the sums over in_c, the output transform, bias and ReLU stay fp32:
// half the multiply instructions and half the bytes of the fp32 kernel's GEMM.
//
// Which transform each layer takes is winograd_bf16_path.hpp's choice: rounding the
// transformed values is amplified by the output transform's cancellation, so the larger
// tiles fp32 takes for 3x3 and 1x7 layers, F(4x4, 3x3) and F(4, 7), each took the smallest
// mixed10 cosine to fp32 over the 482 superheroes images to 0.9994 (below the 0.9995 bf16 is
// held to), F(3, 7) to 0.99931; F(2x2, 3x3) and F(2, 7) with F(2x2, 5x5) and F(4, 3) keep it
// at 0.9998. The smaller tiles cost more products per output, which bf16's rate pays back.
#include <immintrin.h>

#include "bf16/conv2d_bf16.hpp"
#include "bf16/dpbf16_avx512.hpp"
#include "bf16/winograd_bf16_path.hpp"
#include "conv2d_winograd_1d.hpp"
#include "conv2d_winograd_2d.hpp"
#include "conv2d_winograd_f2x2_3x3.hpp"
#include "gemm_tile_job.hpp"
#include "simd_avx512.hpp"

namespace tinception::kernels {
namespace {

// The Winograd driver's micro-kernel: C[rows][32] (+)= A[rows][k_len pairs] * B[k_len pairs][32],
// A and B in bf16 pairs (one 32-bit slot each), C fp32; 14 x 32 outputs in 28 accumulators.
struct GemmTileBf16Avx512 {
    using S = Avx512;
    static constexpr int kTileRows = 14;
    static constexpr int kPanelWidth = 32;
    static constexpr int kWinogradBlockTiles = kTileRows * 4;
    static constexpr int kWinogradMinInC = kAvx512WinogradMinInC;
    static constexpr int kValuesPerSlot = 2;
    static void tile(const TileJob<S>& t, int rows);
    static void to_slots(float* values, long count);
};

template <int Rows>
void winograd_tile_bf16(const TileJob<Avx512>& t) {
    __m512 acc0[Rows], acc1[Rows];  // unrolled loops keep them in registers (as bf16_tile)
    if (t.first) {
#pragma GCC unroll 14
        for (int i = 0; i < Rows; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
    } else {
#pragma GCC unroll 14
        for (int i = 0; i < Rows; ++i) {
            acc0[i] = _mm512_maskz_loadu_ps(t.mask0, t.c + i * t.ldc);
            acc1[i] = _mm512_maskz_loadu_ps(t.mask1, t.c + i * t.ldc + 16);
        }
    }
    const float* a = t.a;
    const float* b = t.b;
    const long lda = t.lda;
    const long k_len = t.k_len;
    const float* next = t.prefetch;
    for (long q = 0; q < k_len; ++q, ++a, b += GemmTileBf16Avx512::kPanelWidth) {
        if (next) Avx512::prefetch_panel_row(next + q * GemmTileBf16Avx512::kPanelWidth);
        const __m512i w0 = _mm512_loadu_si512(b);
        const __m512i w1 = _mm512_loadu_si512(b + 16);
        for (int i = 0; i < Rows; ++i) {
            const __m512i x = _mm512_castps_si512(_mm512_set1_ps(a[i * lda]));
            acc0[i] = dpbf16(acc0[i], x, w0);
            acc1[i] = dpbf16(acc1[i], x, w1);
        }
    }
#pragma GCC unroll 14
    for (int i = 0; i < Rows; ++i) {
        _mm512_mask_storeu_ps(t.c + i * t.ldc, t.mask0, acc0[i]);
        _mm512_mask_storeu_ps(t.c + i * t.ldc + 16, t.mask1, acc1[i]);
    }
}

using TileFn = void (*)(const TileJob<Avx512>&);
constexpr TileFn kTileByRows[GemmTileBf16Avx512::kTileRows + 1] = {
    nullptr,
    winograd_tile_bf16<1>,  winograd_tile_bf16<2>,  winograd_tile_bf16<3>,  winograd_tile_bf16<4>,
    winograd_tile_bf16<5>,  winograd_tile_bf16<6>,  winograd_tile_bf16<7>,  winograd_tile_bf16<8>,
    winograd_tile_bf16<9>,  winograd_tile_bf16<10>, winograd_tile_bf16<11>, winograd_tile_bf16<12>,
    winograd_tile_bf16<13>, winograd_tile_bf16<14>,
};

void GemmTileBf16Avx512::tile(const TileJob<Avx512>& t, int rows) { kTileByRows[rows](t); }

// values[0, count) fp32 -> bf16 at the same address, front to back: each step reads its 32
// floats before writing their 32 halves, which land at or below what is still unread.
void GemmTileBf16Avx512::to_slots(float* values, long count) {
    auto* out = reinterpret_cast<std::uint16_t*>(values);
    long i = 0;
    for (; i + 32 <= count; i += 32) {
        const __m512 lo = _mm512_loadu_ps(values + i), hi = _mm512_loadu_ps(values + i + 16);
        _mm512_storeu_si512(out + i, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
    for (; i < count; i += 16) {
        const long left = count - i;
        const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
        const __m512 lo = _mm512_maskz_loadu_ps(mask, values + i);
        _mm256_mask_storeu_epi16(out + i, mask, (__m256i)_mm512_cvtneps_pbh(lo));
    }
}

using G = GemmTileBf16Avx512;

void conv2d(const Conv2dArgs& a) {
    switch (bf16_winograd(a)) {
    case Bf16Winograd::f2x2_3x3: return conv2d_winograd_f2x2_3x3<G>(a);
    case Bf16Winograd::f2x2_5x5: return conv2d_winograd_f2x2_5x5<G>(a);
    case Bf16Winograd::f4_3: return conv2d_winograd_1d<G, 4, 3>(a);
    case Bf16Winograd::f2_7: return conv2d_winograd_1d<G, 2, 7>(a);
    case Bf16Winograd::none: return;
    }
}

std::size_t packed_size(const Conv2dArgs& a) {
    switch (bf16_winograd(a)) {
    case Bf16Winograd::f2x2_3x3: return winograd_f2x2_3x3_packed_size<G>(a);
    case Bf16Winograd::f2x2_5x5: return winograd_2d_packed_size<G, 2, 5>(a);
    case Bf16Winograd::f4_3: return winograd_1d_packed_size<G, 4, 3>(a);
    case Bf16Winograd::f2_7: return winograd_1d_packed_size<G, 2, 7>(a);
    case Bf16Winograd::none: break;
    }
    return 0;
}

void pack(const Conv2dArgs& a, void* packed) {
    switch (bf16_winograd(a)) {
    case Bf16Winograd::f2x2_3x3: return winograd_f2x2_3x3_pack<G>(a, packed);
    case Bf16Winograd::f2x2_5x5: return winograd_2d_pack<G, 2, 5>(a, packed);
    case Bf16Winograd::f4_3: return winograd_1d_pack<G, 4, 3>(a, packed);
    case Bf16Winograd::f2_7: return winograd_1d_pack<G, 2, 7>(a, packed);
    case Bf16Winograd::none: return;
    }
}

int elements(const Conv2dArgs& a) {
    switch (bf16_winograd(a)) {
    case Bf16Winograd::f2x2_3x3: return kWinogradF2x2_3x3Elements;
    case Bf16Winograd::f2x2_5x5: return Winograd2dPlan<2, 5>::kElements;
    case Bf16Winograd::f4_3: return Winograd1d<4, 3>::kAlpha;
    case Bf16Winograd::f2_7: return Winograd1d<2, 7>::kAlpha;
    case Bf16Winograd::none: break;
    }
    return 0;
}

std::size_t workspace_size(const Conv2dArgs& a) { return winograd_workspace_size<G>(a, elements(a), packed_size(a)); }

// In 32-bit slots: a panel holds, per pair of input channels, every transform element.
std::size_t packed_offset(const Conv2dArgs& a, int first_channel) {
    return std::size_t(first_channel) * std::size_t(elements(a)) * std::size_t(slots_of<G>(a.in_c));
}

// Bands start where the uncut call's tiles do.
int row_alignment(const Conv2dArgs& a) {
    switch (bf16_winograd(a)) {
    case Bf16Winograd::f2x2_3x3:
    case Bf16Winograd::f2x2_5x5: return 2;
    case Bf16Winograd::f4_3: return winograd_1d_row_alignment<4>(a);
    case Bf16Winograd::f2_7: return winograd_1d_row_alignment<2>(a);
    case Bf16Winograd::none: break;
    }
    return 1;
}

const char* path(const Conv2dArgs& a) {
    switch (bf16_winograd(a)) {
    case Bf16Winograd::f2x2_3x3: return "bf16_winograd_f2x2_3x3";
    case Bf16Winograd::f2x2_5x5: return "bf16_winograd_f2x2_5x5";
    case Bf16Winograd::f4_3: return "bf16_winograd_f4_3";
    case Bf16Winograd::f2_7: return "bf16_winograd_f2_7";
    case Bf16Winograd::none: break;
    }
    return "none";
}

}  // namespace

// The convolution entries of avx512_bf16_winograd (bf16_tables.cpp); a layer they do not run
// (bf16_winograd picks none) gets no output and no packed size.
void set_bf16_winograd_conv2d(KernelTable& t) {
    t.conv2d = conv2d;
    t.conv2d_packed_size = packed_size;
    t.conv2d_pack = pack;
    t.conv2d_workspace_size = workspace_size;
    t.conv2d_panel_width = G::kPanelWidth;
    t.conv2d_packed_offset = packed_offset;
    t.conv2d_row_alignment = row_alignment;
    t.conv2d_path = path;
}

}  // namespace tinception::kernels
