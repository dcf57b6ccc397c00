// Reference max and average pooling, NHWC. Padded cells never win a max and, unless
// count_include_pad is set, never count in an average's divisor (TensorFlow's rule).
#include <cassert>
#include <limits>

#include "reference.hpp"

namespace tinception::kernels {
namespace {

template <typename Visit>
void for_each_window(const Pool2dArgs& a, Visit visit) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.c;
    for (int b = 0; b < a.n; ++b)
        for (int y = 0; y < a.out_h; ++y)
            for (int x = 0; x < a.out_w; ++x)
                for (int ch = 0; ch < a.c; ++ch) {
                    const int y0 = y * a.stride_h - a.pad_top;
                    const int x0 = x * a.stride_w - a.pad_left;
                    const float* image = a.input + long(b) * a.in_h * a.in_w * in_stride + ch;
                    float* out = a.output + ((long(b) * a.out_h + y) * a.out_w + x) * out_stride + ch;
                    visit(image, in_stride, y0, x0, out, ch);
                }
}

}  // namespace

// out = max over the in-bounds cells of the window
void maxpool2d_ref(const Pool2dArgs& a) {
    assert(a.input && a.output);
    for_each_window(a, [&](const float* image, long stride, int y0, int x0, float* out, int /*ch*/) {
        float best = -std::numeric_limits<float>::infinity();
        for (int ky = 0; ky < a.kernel_h; ++ky)
            for (int kx = 0; kx < a.kernel_w; ++kx) {
                const int iy = y0 + ky, ix = x0 + kx;
                if (iy < 0 || iy >= a.in_h || ix < 0 || ix >= a.in_w) continue;
                const float v = image[(long(iy) * a.in_w + ix) * stride];
                if (v > best) best = v;
            }
        *out = best;
    });
}

// out = sum over in-bounds cells / (in-bounds count, or kernel area with count_include_pad),
// plus bias[ch], then max(0, out) with relu
void avgpool2d_ref(const Pool2dArgs& a) {
    assert(a.input && a.output);
    for_each_window(a, [&](const float* image, long stride, int y0, int x0, float* out, int ch) {
        double sum = 0.0;
        int count = 0;
        for (int ky = 0; ky < a.kernel_h; ++ky)
            for (int kx = 0; kx < a.kernel_w; ++kx) {
                const int iy = y0 + ky, ix = x0 + kx;
                if (iy < 0 || iy >= a.in_h || ix < 0 || ix >= a.in_w) continue;
                sum += image[(long(iy) * a.in_w + ix) * stride];
                ++count;
            }
        const int divisor = a.count_include_pad ? a.kernel_h * a.kernel_w : count;
        float mean = divisor > 0 ? float(sum / divisor) : 0.0f;
        if (a.bias) mean += a.bias[ch];
        *out = a.relu && mean < 0.0f ? 0.0f : mean;
    });
}

// out[b][ch] = (1 / (h*w)) * sum_{y,x} in[b][y][x][ch]
// Each channel's sum in double, pixels in order. Pixel by pixel over a block of channels, so
// the reads run along memory and the compiler vectorizes across channels; a channel at a
// time strode through the whole tensor once per channel (at batch 1, a pooled stem output
// took as long as the convolution).
void global_avgpool_ref(const float* input, float* output, int n, int h, int w, int c) {
    constexpr int kBlock = 256;
    const long pixels = long(h) * w;
    double sum[kBlock];
    for (int b = 0; b < n; ++b)
        for (int c0 = 0; c0 < c; c0 += kBlock) {
            const int width = c - c0 < kBlock ? c - c0 : kBlock;
            for (int j = 0; j < width; ++j) sum[j] = 0.0;
            for (long p = 0; p < pixels; ++p) {
                const float* row = input + (long(b) * pixels + p) * c + c0;
                for (int j = 0; j < width; ++j) sum[j] += row[j];
            }
            for (int j = 0; j < width; ++j) output[long(b) * c + c0 + j] = float(sum[j] / double(pixels));
        }
}

}  // namespace tinception::kernels
