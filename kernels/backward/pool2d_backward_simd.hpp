// Max and average pooling backward, NHWC, over any ISA's vector operations S (simd_*.hpp)
// plus its lane picks P (below): S::kLanes channels per vector, the window clipped to the
// input once per output pixel, a masked last vector. Windows and their cells are visited in
// the reference's order, so each input's gradient sums in the same order. Internal linkage:
// each ISA file compiles its own copy.
//
// P, the lane picks max pooling needs to hand each lane's gradient to the first cell holding
// its maximum (ties go to the first, as in the reference): P::Lanes a set of lanes;
// P::live(mask), P::equal(a, b), P::but(a, b) (lanes of
// a not in b), P::both(a, b), P::keep(lanes, v) (v in those lanes, zero elsewhere).
#pragma once
#include <cstring>

#include "backward/backward_kernels.hpp"
#include "pool_window.hpp"

namespace tinception::kernels {
namespace {

template <class S, class P, bool kMax>
void pool2d_backward_nhwc(const Pool2dBackwardArgs& a) {
    using V = typename S::V;
    const Pool2dArgs& f = a.forward;
    const long in_stride = f.in_pixel_stride ? f.in_pixel_stride : f.c;
    const long g_stride = a.grad_output_pixel_stride ? a.grad_output_pixel_stride : f.c;
    const long gi_stride = a.grad_input_pixel_stride ? a.grad_input_pixel_stride : f.c;
    if (!a.accumulate_input)
        for (long p = 0; p < long(f.n) * f.in_h * f.in_w; ++p)
            std::memset(a.grad_input + p * gi_stride, 0, sizeof(float) * std::size_t(f.c));
    for (int b = 0; b < f.n; ++b) {
        const float* image = kMax ? f.input + long(b) * f.in_h * f.in_w * in_stride : nullptr;
        float* grad_image = a.grad_input + long(b) * f.in_h * f.in_w * gi_stride;
        for (int y = 0; y < f.out_h; ++y) {
            // plain ints, not structured bindings: C++17 lets no lambda capture those
            const ClippedWindow rows = clip_window(y, f.stride_h, f.pad_top, f.in_h, f.kernel_h);
            const int y0 = rows.start, ky0 = rows.k0, ky1 = rows.k1;
            for (int x = 0; x < f.out_w; ++x) {
                const ClippedWindow cols = clip_window(x, f.stride_w, f.pad_left, f.in_w, f.kernel_w);
                const int x0 = cols.start, kx0 = cols.k0, kx1 = cols.k1;
                if (ky1 <= ky0 || kx1 <= kx0) continue;  // padding alone: no cell to hand back to
                const int divisor = f.count_include_pad ? f.kernel_h * f.kernel_w : (ky1 - ky0) * (kx1 - kx0);
                const float* g = a.grad_output + ((long(b) * f.out_h + y) * f.out_w + x) * g_stride;
                for (int c = 0; c < f.c; c += S::kLanes) {
                    const typename S::Mask mask = S::mask(f.c - c);
                    const V grad = S::load(mask, g + c);
                    const auto cell = [&](int ky, int kx) { return (long(y0 + ky) * f.in_w + (x0 + kx)); };
                    if (kMax) {
                        V best = S::set1(-__builtin_inff());
                        for (int ky = ky0; ky < ky1; ++ky)
                            for (int kx = kx0; kx < kx1; ++kx)
                                best = S::max(S::load(mask, image + cell(ky, kx) * in_stride + c), best);
                        // a lane whose every cell is -inf has no winner, as in the reference
                        typename P::Lanes open = P::but(P::live(mask), P::equal(best, S::set1(-__builtin_inff())));
                        for (int ky = ky0; ky < ky1; ++ky)
                            for (int kx = kx0; kx < kx1; ++kx) {
                                const V v = S::load(mask, image + cell(ky, kx) * in_stride + c);
                                const typename P::Lanes hit = P::both(P::equal(v, best), open);
                                float* dst = grad_image + cell(ky, kx) * gi_stride + c;
                                S::store(dst, mask, S::add(S::load(mask, dst), P::keep(hit, grad)));
                                open = P::but(open, hit);
                            }
                    } else {
                        const V share = S::div(grad, S::set1(float(divisor)));
                        for (int ky = ky0; ky < ky1; ++ky)
                            for (int kx = kx0; kx < kx1; ++kx) {
                                float* dst = grad_image + cell(ky, kx) * gi_stride + c;
                                S::store(dst, mask, S::add(S::load(mask, dst), share));
                            }
                    }
                }
            }
        }
    }
}

}  // namespace
}  // namespace tinception::kernels
