// Max and average pooling, NHWC, over any ISA's vector operations (simd_*.hpp): S::kLanes
// channels per vector along the contiguous channel axis, the window clipped to the input once
// per output pixel, a masked last vector for channel counts that are not a multiple of the
// width. Sums in float, in the reference's tap order. Internal linkage: each ISA file
// compiles its own copy.
#pragma once
#include "kernel_table.hpp"
#include "pool_window.hpp"

namespace tinception::kernels {
namespace {

template <class S, bool kMax>
void pool2d_nhwc(const Pool2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.c;
    const typename S::V lowest = S::set1(-__builtin_inff());
    for (int b = 0; b < a.n; ++b) {
        const float* image = a.input + long(b) * a.in_h * a.in_w * in_stride;
        for (int y = 0; y < a.out_h; ++y) {
            const auto [y0, ky0, ky1] = clip_window(y, a.stride_h, a.pad_top, a.in_h, a.kernel_h);
            for (int x = 0; x < a.out_w; ++x) {
                const auto [x0, kx0, kx1] = clip_window(x, a.stride_w, a.pad_left, a.in_w, a.kernel_w);
                const int inside = (ky1 > ky0 && kx1 > kx0) ? (ky1 - ky0) * (kx1 - kx0) : 0;
                const int divisor = a.count_include_pad ? a.kernel_h * a.kernel_w : inside;
                float* out = a.output + ((long(b) * a.out_h + y) * a.out_w + x) * out_stride;
                for (int c = 0; c < a.c; c += S::kLanes) {
                    const typename S::Mask mask = S::mask(a.c - c);
                    typename S::V acc = kMax ? lowest : S::zero();
                    for (int ky = ky0; ky < ky1; ++ky)
                        for (int kx = kx0; kx < kx1; ++kx) {
                            const typename S::V v =
                                S::load(mask, image + (long(y0 + ky) * a.in_w + (x0 + kx)) * in_stride + c);
                            // max(v, acc) keeps acc when v is NaN, as the reference's v > best does
                            acc = kMax ? S::max(v, acc) : S::add(acc, v);
                        }
                    if (!kMax) acc = divisor > 0 ? S::div(acc, S::set1(float(divisor))) : S::zero();
                    S::store(out + c, mask, acc);
                }
            }
        }
    }
}

}  // namespace
}  // namespace tinception::kernels
