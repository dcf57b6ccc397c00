// The AArch64 NEON vector operations the ISA-generic kernel templates are written against (see
// simd_avx2.hpp for the same set on 8 lanes). Included only by *_neon.cpp files.
#pragma once
#include <arm_neon.h>

namespace tinception::kernels {
namespace {

struct Neon {
    using V = float32x4_t;
    // NEON has no masked loads or stores: a mask is the count of live lanes, [0, 4], and a
    // partial vector goes through a small buffer so no byte past the live lanes is touched.
    using Mask = int;
    static constexpr int kLanes = 4;

    static V zero() { return vdupq_n_f32(0.0f); }
    static V set1(float x) { return vdupq_n_f32(x); }
    // Lanes [0, valid) live: masked loads read zero and masked stores skip the others.
    static Mask mask(int valid) { return valid < 0 ? 0 : valid > kLanes ? kLanes : valid; }
    static V load(const float* p) { return vld1q_f32(p); }
    static V load(Mask m, const float* p) {
        if (m == kLanes) return vld1q_f32(p);
        float lanes[kLanes] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int i = 0; i < m; ++i) lanes[i] = p[i];
        return vld1q_f32(lanes);
    }
    static void store(float* p, Mask m, V v) {
        if (m == kLanes) return vst1q_f32(p, v);
        float lanes[kLanes];
        vst1q_f32(lanes, v);
        for (int i = 0; i < m; ++i) p[i] = lanes[i];
    }
    static V broadcast(const float* p) { return vld1q_dup_f32(p); }
    static V fmadd(V a, V b, V c) { return vfmaq_f32(c, a, b); }  // a * b + c, one rounding
    static V add(V a, V b) { return vaddq_f32(a, b); }
    static V sub(V a, V b) { return vsubq_f32(a, b); }
    static V div(V a, V b) { return vdivq_f32(a, b); }
    // b where a is not greater, NaN included, as x86's maxps: max(v, best) keeps best when v
    // is NaN (vmaxq_f32 would return the NaN).
    static V max(V a, V b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
    static V relu(V v) { return max(v, zero()); }
};

}  // namespace
}  // namespace tinception::kernels
