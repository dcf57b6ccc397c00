// The AVX2 vector operations the ISA-generic kernel templates are written against (see
// simd_avx512.hpp for the same set on 16 lanes). Included only by *_avx2.cpp files.
#pragma once
#include <immintrin.h>

namespace tinception::kernels {
namespace {

struct Avx2 {
    using V = __m256;
    using Mask = __m256i;  // lane j live when its sign bit is set
    static constexpr int kLanes = 8;

    static V zero() { return _mm256_setzero_ps(); }
    static V set1(float x) { return _mm256_set1_ps(x); }
    // Lanes [0, valid) live: masked loads read zero and masked stores skip the others.
    static Mask mask(int valid) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static V load(const float* p) { return _mm256_loadu_ps(p); }
    static V load(Mask m, const float* p) { return _mm256_maskload_ps(p, m); }
    // A masked store is microcoded on AMD cores (about ten times a plain one on Zen 3), so a
    // mask of all lanes, the common case, takes the plain store.
    static bool full(Mask m) { return _mm256_movemask_ps(_mm256_castsi256_ps(m)) == 0xFF; }
    static void store(float* p, Mask m, V v) {
        if (full(m))
            _mm256_storeu_ps(p, v);
        else
            _mm256_maskstore_ps(p, m, v);
    }
    static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
    static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm256_add_ps(a, b); }
    static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
    static V div(V a, V b) { return _mm256_div_ps(a, b); }
    // b where a is not greater, NaN included: max(v, best) keeps best when v is NaN.
    static V max(V a, V b) { return _mm256_max_ps(a, b); }
    static V relu(V v) { return _mm256_max_ps(v, _mm256_setzero_ps()); }
    // A packed panel's row, two vectors (64 bytes): into L2 ahead of the tile that reads it.
    static void prefetch_panel_row(const float* row) { _mm_prefetch(reinterpret_cast<const char*>(row), _MM_HINT_T1); }
};

}  // namespace
}  // namespace tinception::kernels
