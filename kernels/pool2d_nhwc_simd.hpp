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

// Windows of up to this many taps list their input pixels once per output pixel, so the
// loop over channels only loads and combines; larger ones walk the window per vector.
constexpr int kPoolListedTaps = 64;

// An average's last step: the mean, then the bias from channel c0 on (if any) and the ReLU.
template <class S>
typename S::V finish_mean(typename S::V sum, int divisor, const Pool2dArgs& a, int c0, typename S::Mask mask) {
    typename S::V mean = divisor > 0 ? S::div(sum, S::set1(float(divisor))) : S::zero();
    if (a.bias) mean = S::add(mean, S::load(mask, a.bias + c0));
    return a.relu ? S::relu(mean) : mean;
}

// One output pixel: channels [0, a.c) of out from the `taps` input pixels listed in tap.
template <class S, bool kMax>
void pool_listed_taps(const float* const* tap, int taps, const Pool2dArgs& a, int divisor, float* out) {
    const int c = a.c;
    const typename S::V lowest = S::set1(-__builtin_inff());
    for (int c0 = 0; c0 < c; c0 += S::kLanes) {
        const typename S::Mask mask = S::mask(c - c0);
        typename S::V acc = kMax ? lowest : S::zero();
        if (c - c0 >= S::kLanes) {
            for (int t = 0; t < taps; ++t) {
                const typename S::V v = S::load(tap[t] + c0);
                // max(v, acc) keeps acc when v is NaN, as the reference's v > best does
                acc = kMax ? S::max(v, acc) : S::add(acc, v);
            }
        } else {
            for (int t = 0; t < taps; ++t) {
                const typename S::V v = S::load(mask, tap[t] + c0);
                acc = kMax ? S::max(v, acc) : S::add(acc, v);
            }
        }
        if (!kMax) acc = finish_mean<S>(acc, divisor, a, c0, mask);
        S::store(out + c0, mask, acc);
    }
}

template <class S, bool kMax>
void pool2d_nhwc(const Pool2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.c;
    const typename S::V lowest = S::set1(-__builtin_inff());
    const float* tap[kPoolListedTaps];
    for (int b = 0; b < a.n; ++b) {
        const float* image = a.input + long(b) * a.in_h * a.in_w * in_stride;
        for (int y = 0; y < a.out_h; ++y) {
            const auto [y0, ky0, ky1] = clip_window(y, a.stride_h, a.pad_top, a.in_h, a.kernel_h);
            for (int x = 0; x < a.out_w; ++x) {
                const auto [x0, kx0, kx1] = clip_window(x, a.stride_w, a.pad_left, a.in_w, a.kernel_w);
                const int inside = (ky1 > ky0 && kx1 > kx0) ? (ky1 - ky0) * (kx1 - kx0) : 0;
                const int divisor = a.count_include_pad ? a.kernel_h * a.kernel_w : inside;
                float* out = a.output + ((long(b) * a.out_h + y) * a.out_w + x) * out_stride;
                if (inside <= kPoolListedTaps) {
                    int taps = 0;
                    for (int ky = ky0; ky < ky1; ++ky)
                        for (int kx = kx0; kx < kx1; ++kx)
                            tap[taps++] = image + (long(y0 + ky) * a.in_w + (x0 + kx)) * in_stride;
                    pool_listed_taps<S, kMax>(tap, taps, a, divisor, out);
                    continue;
                }
                for (int c = 0; c < a.c; c += S::kLanes) {
                    const typename S::Mask mask = S::mask(a.c - c);
                    typename S::V acc = kMax ? lowest : S::zero();
                    for (int ky = ky0; ky < ky1; ++ky)
                        for (int kx = kx0; kx < kx1; ++kx) {
                            const typename S::V v =
                                S::load(mask, image + (long(y0 + ky) * a.in_w + (x0 + kx)) * in_stride + c);
                            acc = kMax ? S::max(v, acc) : S::add(acc, v);
                        }
                    if (!kMax) acc = finish_mean<S>(acc, divisor, a, c, mask);
                    S::store(out + c, mask, acc);
                }
            }
        }
    }
}

}  // namespace
}  // namespace tinception::kernels
