// Reference pooling backward, NHWC: each window hands its output gradient back to the cells
// that made its output, with the forward kernels' rules (pool2d_ref.cpp): padded cells never
// win a max nor, unless count_include_pad, count in an average.
#include <cassert>
#include <limits>

#include "backward/backward_kernels.hpp"

namespace tinception::kernels {
namespace {

// grad_input's channels [0, c) of every pixel set to zero, unless the call accumulates.
void clear_grad_input(const Pool2dBackwardArgs& a, long gi_stride) {
    if (a.accumulate_input) return;
    const Pool2dArgs& f = a.forward;
    for (long p = 0; p < long(f.n) * f.in_h * f.in_w; ++p)
        for (int ch = 0; ch < f.c; ++ch) a.grad_input[p * gi_stride + ch] = 0.0f;
}

// Calls visit(window's first row, first column, its output gradient, the image's input and
// input gradient at channel ch) for every window and channel.
template <typename Visit>
void for_each_window(const Pool2dBackwardArgs& a, Visit visit) {
    const Pool2dArgs& f = a.forward;
    const long in_stride = f.in_pixel_stride ? f.in_pixel_stride : f.c;
    const long g_stride = a.grad_output_pixel_stride ? a.grad_output_pixel_stride : f.c;
    const long gi_stride = a.grad_input_pixel_stride ? a.grad_input_pixel_stride : f.c;
    clear_grad_input(a, gi_stride);
    for (int b = 0; b < f.n; ++b)
        for (int y = 0; y < f.out_h; ++y)
            for (int x = 0; x < f.out_w; ++x)
                for (int ch = 0; ch < f.c; ++ch) {
                    const float g = a.grad_output[((long(b) * f.out_h + y) * f.out_w + x) * g_stride + ch];
                    const float* image = f.input ? f.input + long(b) * f.in_h * f.in_w * in_stride + ch : nullptr;
                    float* grad_image = a.grad_input + long(b) * f.in_h * f.in_w * gi_stride + ch;
                    visit(y * f.stride_h - f.pad_top, x * f.stride_w - f.pad_left, g, image, in_stride, grad_image,
                          gi_stride);
                }
}

}  // namespace

// grad_in[winner of the window] += grad_out, the winner being the first in-bounds cell (row by
// row) holding the window's maximum; a window of padding alone has none.
void maxpool2d_backward_ref(const Pool2dBackwardArgs& a) {
    const Pool2dArgs& f = a.forward;
    assert(f.input && a.grad_output && a.grad_input);
    for_each_window(a, [&](int y0, int x0, float g, const float* image, long stride, float* grad_image,
                           long gi_stride) {
        float best = -std::numeric_limits<float>::infinity();
        long winner = -1;
        for (int ky = 0; ky < f.kernel_h; ++ky)
            for (int kx = 0; kx < f.kernel_w; ++kx) {
                const int iy = y0 + ky, ix = x0 + kx;
                if (iy < 0 || iy >= f.in_h || ix < 0 || ix >= f.in_w) continue;
                const long cell = long(iy) * f.in_w + ix;
                if (image[cell * stride] > best) best = image[cell * stride], winner = cell;
            }
        if (winner >= 0) grad_image[winner * gi_stride] += g;
    });
}

// grad_in[cell] += grad_out / divisor for every in-bounds cell of the window, the divisor being
// the forward's (in-bounds count, or the kernel area with count_include_pad).
void avgpool2d_backward_ref(const Pool2dBackwardArgs& a) {
    const Pool2dArgs& f = a.forward;
    assert(a.grad_output && a.grad_input);
    for_each_window(a, [&](int y0, int x0, float g, const float*, long, float* grad_image, long gi_stride) {
        const int y_begin = y0 < 0 ? 0 : y0, y_end = y0 + f.kernel_h > f.in_h ? f.in_h : y0 + f.kernel_h;
        const int x_begin = x0 < 0 ? 0 : x0, x_end = x0 + f.kernel_w > f.in_w ? f.in_w : x0 + f.kernel_w;
        const int count = (y_end - y_begin) * (x_end - x_begin);
        const int divisor = f.count_include_pad ? f.kernel_h * f.kernel_w : count;
        if (count <= 0) return;
        const float share = float(double(g) / divisor);
        for (int iy = y_begin; iy < y_end; ++iy)
            for (int ix = x_begin; ix < x_end; ++ix) grad_image[(long(iy) * f.in_w + ix) * gi_stride] += share;
    });
}

// grad_in[b][y][x][ch] (+)= grad_out[b][ch] / (h * w)
void global_avgpool_backward_ref(const float* grad_output, float* grad_input, int n, int h, int w, int c,
                                 bool accumulate) {
    for (int b = 0; b < n; ++b)
        for (long p = 0; p < long(h) * w; ++p)
            for (int ch = 0; ch < c; ++ch) {
                const float share = float(double(grad_output[long(b) * c + ch]) / (double(h) * w));
                float& dst = grad_input[(long(b) * h * w + p) * c + ch];
                dst = accumulate ? dst + share : share;
            }
}

}  // namespace tinception::kernels
