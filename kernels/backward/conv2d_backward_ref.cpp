// Reference convolution backward, NHWC activations and OIHW weights: each gradient is a
// plain gather in double, written to be read; the GEMM kernels are tested against it.
#include <cassert>
#include <vector>

#include "backward/backward_kernels.hpp"

namespace tinception::kernels {
namespace {

// g[b][y][x][oc] = dL/d(pre-activation): grad_output, masked by forward output > 0 under ReLU.
std::vector<double> masked_grad(const Conv2dBackwardArgs& a) {
    const Conv2dArgs& f = a.forward;
    const long g_stride = a.grad_output_pixel_stride ? a.grad_output_pixel_stride : f.out_c;
    const long out_stride = f.out_pixel_stride ? f.out_pixel_stride : f.out_c;
    const long pixels = long(f.n) * f.out_h * f.out_w;
    std::vector<double> g(std::size_t(pixels) * std::size_t(f.out_c));
    for (long p = 0; p < pixels; ++p)
        for (int oc = 0; oc < f.out_c; ++oc) {
            const bool live = !f.relu || f.output[p * out_stride + oc] > 0.0f;
            g[std::size_t(p * f.out_c + oc)] = live ? a.grad_output[p * g_stride + oc] : 0.0;
        }
    return g;
}

}  // namespace

// With g as above and the forward tap in[b][y*sy+ky-pt][x*sx+kx-pl][ic]:
//   grad_bias[oc] = sum_{b,y,x} g[b][y][x][oc]
//   grad_w[oc][ic][ky][kx] = sum_{b,y,x} g[b][y][x][oc] * tap      (taps outside the input are 0)
//   grad_in[b][iy][ix][ic] = sum over (ky, kx, y, x) with y*sy+ky-pt = iy, x*sx+kx-pl = ix,
//                            and oc of g[b][y][x][oc] * w[oc][ic][ky][kx]
void conv2d_backward_ref(const Conv2dBackwardArgs& a) {
    const Conv2dArgs& f = a.forward;
    assert(a.grad_output && (!f.relu || f.output));
    const long in_stride = f.in_pixel_stride ? f.in_pixel_stride : f.in_c;
    const long out_pixels = long(f.out_h) * f.out_w;
    const std::vector<double> g = masked_grad(a);
    const auto grad_at = [&](long pixel, int oc) { return g[std::size_t(pixel * f.out_c + oc)]; };
    if (a.grad_bias)
        for (int oc = 0; oc < f.out_c; ++oc) {
            double sum = 0.0;
            for (long p = 0; p < f.n * out_pixels; ++p) sum += grad_at(p, oc);
            a.grad_bias[oc] = float(sum);
        }
    if (a.grad_weights) {
        assert(f.input);
        for (int oc = 0; oc < f.out_c; ++oc)
            for (int ic = 0; ic < f.in_c; ++ic)
                for (int ky = 0; ky < f.kernel_h; ++ky)
                    for (int kx = 0; kx < f.kernel_w; ++kx) {
                        double sum = 0.0;
                        for (int b = 0; b < f.n; ++b)
                            for (int y = 0; y < f.out_h; ++y) {
                                const int iy = y * f.stride_h + ky - f.pad_top;
                                if (iy < 0 || iy >= f.in_h) continue;
                                for (int x = 0; x < f.out_w; ++x) {
                                    const int ix = x * f.stride_w + kx - f.pad_left;
                                    if (ix < 0 || ix >= f.in_w) continue;
                                    const long pixel = (long(b) * f.out_h + y) * f.out_w + x;
                                    const float in = f.input[((long(b) * f.in_h + iy) * f.in_w + ix) * in_stride + ic];
                                    sum += grad_at(pixel, oc) * double(in);
                                }
                            }
                        a.grad_weights[((long(oc) * f.in_c + ic) * f.kernel_h + ky) * f.kernel_w + kx] = float(sum);
                    }
    }
    if (a.grad_input) {
        assert(f.weights);
        const long gi_stride = a.grad_input_pixel_stride ? a.grad_input_pixel_stride : f.in_c;
        for (int b = 0; b < f.n; ++b)
            for (int iy = 0; iy < f.in_h; ++iy)
                for (int ix = 0; ix < f.in_w; ++ix)
                    for (int ic = 0; ic < f.in_c; ++ic) {
                        double sum = 0.0;
                        for (int ky = 0; ky < f.kernel_h; ++ky) {
                            const int ty = iy + f.pad_top - ky;  // y * stride_h when a tap lands here
                            if (ty < 0 || ty % f.stride_h || ty / f.stride_h >= f.out_h) continue;
                            for (int kx = 0; kx < f.kernel_w; ++kx) {
                                const int tx = ix + f.pad_left - kx;
                                if (tx < 0 || tx % f.stride_w || tx / f.stride_w >= f.out_w) continue;
                                const long pixel = (long(b) * f.out_h + ty / f.stride_h) * f.out_w + tx / f.stride_w;
                                for (int oc = 0; oc < f.out_c; ++oc)
                                    sum += grad_at(pixel, oc) *
                                           double(f.weights[((long(oc) * f.in_c + ic) * f.kernel_h + ky) * f.kernel_w + kx]);
                            }
                        }
                        float& dst = a.grad_input[((long(b) * f.in_h + iy) * f.in_w + ix) * gi_stride + ic];
                        dst = a.accumulate_input ? float(double(dst) + sum) : float(sum);
                    }
    }
}

}  // namespace tinception::kernels
