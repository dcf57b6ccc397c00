// What the convolution tests of the SIMD tables share: the tolerance against the reference,
// the comparison of an output slice that must leave every other float at its sentinel, and
// weights packed 64-byte aligned as the network packs them.
#pragma once
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <vector>

#include "kernel_dispatch.hpp"

namespace tinception::testing {

// A sum of K = taps*in_c products of terms within [-1, 1] drifts by about K * FLT_EPSILON; the
// reference accumulates in double, so the bound is on the kernel under test alone.
inline float conv_tolerance(const kernels::Conv2dArgs& a) {
    const float k = float(a.in_c) * float(a.kernel_h * a.kernel_w) + 1.0f;
    return 4.0f * k * FLT_EPSILON + 1e-6f;
}

// Compares a's output slice (from out_offset on, pixels out_stride floats apart) element by
// element within tolerance * (1 + |expected|); anything outside it must still hold `sentinel`.
inline void check_conv_output(const kernels::Conv2dArgs& a, long out_offset, long out_stride, float sentinel,
                              const std::vector<float>& expected, const std::vector<float>& actual,
                              float tolerance) {
    long mismatches = 0, clobbered = 0;
    std::ostringstream first;
    for (std::size_t i = 0; i < actual.size(); ++i) {
        const long slot = long(i) - out_offset;
        const long pixel = slot / out_stride;
        const long c = slot - pixel * out_stride;
        if (slot < 0 || pixel >= long(a.n) * a.out_h * a.out_w || c >= a.out_c) {
            if (actual[i] != sentinel) ++clobbered;
            continue;
        }
        const float e = expected[i], v = actual[i];
        if (std::fabs(e - v) <= tolerance * (1.0f + std::fabs(e))) continue;
        if (mismatches++ < 4) {
            const long x = pixel % a.out_w, y = pixel / a.out_w % a.out_h, b = pixel / (long(a.out_w) * a.out_h);
            first << " (n" << b << " c" << c << " y" << y << " x" << x << ": " << e << " vs " << v << ")";
        }
    }
    INFO("first mismatches:" << first.str());
    CHECK(mismatches == 0);
    CHECK(clobbered == 0);
}

inline std::size_t align_gap(const std::vector<unsigned char>& p) {
    return (64 - reinterpret_cast<std::uintptr_t>(p.data()) % 64) % 64;
}

// The table's packed weights for a, written 64-byte aligned inside the buffer: hand the
// kernels aligned(buffer).
inline std::vector<unsigned char> pack(const kernels::KernelTable& t, const kernels::Conv2dArgs& a) {
    std::vector<unsigned char> packed(t.conv2d_packed_size(a) + 64);
    t.conv2d_pack(a, packed.data() + align_gap(packed));
    return packed;
}

inline const void* aligned(const std::vector<unsigned char>& packed) {
    return packed.empty() ? nullptr : packed.data() + align_gap(packed);
}

}  // namespace tinception::testing
