// The AVX-512 vector operations the ISA-generic kernel templates are written against (see
// simd_avx2.hpp for the same set on 8 lanes). Included only by *_avx512.cpp files.
#pragma once
#include <immintrin.h>

namespace tinception::kernels {
namespace {

struct Avx512 {
    using V = __m512;
    using Mask = __mmask16;
    static constexpr int kLanes = 16;

    static V zero() { return _mm512_setzero_ps(); }
    static V set1(float x) { return _mm512_set1_ps(x); }
    // Lanes [0, valid) live: masked loads read zero and masked stores skip the others.
    static Mask mask(int valid) {
        if (valid >= 16) return 0xFFFF;
        if (valid <= 0) return 0;
        return Mask((1u << valid) - 1u);
    }
    static V load(const float* p) { return _mm512_loadu_ps(p); }
    static V load(Mask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
    static void store(float* p, Mask m, V v) { _mm512_mask_storeu_ps(p, m, v); }
    static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
    static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm512_add_ps(a, b); }
    static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
    static V div(V a, V b) { return _mm512_div_ps(a, b); }
    // b where a is not greater, NaN included: max(v, best) keeps best when v is NaN. The
    // zero-masking form because GCC 12 flags the undefined pass-through of _mm512_max_ps.
    static V max(V a, V b) { return _mm512_maskz_max_ps(0xFFFF, a, b); }
    static V relu(V v) { return _mm512_maskz_max_ps(0xFFFF, v, _mm512_setzero_ps()); }
    // A packed panel's row, two vectors (128 bytes): into L2 ahead of the tile that reads it (L1
    // still holds the chunk being multiplied).
    static void prefetch_panel_row(const float* row) {
        _mm_prefetch(reinterpret_cast<const char*>(row), _MM_HINT_T1);
        _mm_prefetch(reinterpret_cast<const char*>(row + 16), _MM_HINT_T1);
    }
};

}  // namespace
}  // namespace tinception::kernels
