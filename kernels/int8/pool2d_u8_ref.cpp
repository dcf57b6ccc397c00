// Reference u8 max and average pooling, the u8 channel copy and the input's quantization,
// shared by every int8 table: a small part of the network's time. Written to be read.
#include <cmath>

#include "int8/int8_kernel_table.hpp"

namespace tinception::kernels {

// Clamp first (so a huge or tiny v never overflows the conversion), then round half to even
// (the default rounding mode, as vcvtps2dq).
std::uint8_t requantize_u8_ref(float v) {
    const float clamped = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
    return std::uint8_t(std::nearbyint(clamped));
}

void quantize_u8_ref(const float* in, long pixels, int c, float offset, float scale, std::uint8_t* out,
                     int out_stride) {
    for (long p = 0; p < pixels; ++p)
        for (int k = 0; k < out_stride; ++k)
            out[p * out_stride + k] = k < c ? requantize_u8_ref((in[p * c + k] - offset) / scale) : std::uint8_t(0);
}

namespace {

// The window of output (oy, ox) clipped to the input: [y0, y1) x [x0, x1).
struct Window {
    int y0, y1, x0, x1;
};

Window window_of(const Pool2dU8Args& a, int oy, int ox) {
    const int y = oy * a.stride_h - a.pad_top, x = ox * a.stride_w - a.pad_left;
    Window w{y < 0 ? 0 : y, y + a.kernel_h, x < 0 ? 0 : x, x + a.kernel_w};
    if (w.y1 > a.in_h) w.y1 = a.in_h;
    if (w.x1 > a.in_w) w.x1 = a.in_w;
    return w;
}

template <bool is_max>
void pool_u8(const Pool2dU8Args& a) {
    const int in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.c;
    const int out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.c;
    for (int b = 0; b < a.n; ++b)
        for (int oy = 0; oy < a.out_h; ++oy)
            for (int ox = 0; ox < a.out_w; ++ox) {
                const Window w = window_of(a, oy, ox);
                std::uint8_t* out = a.output + ((long(b) * a.out_h + oy) * a.out_w + ox) * out_stride;
                for (int c = 0; c < a.c; ++c) {
                    int max = 0, sum = 0;
                    for (int y = w.y0; y < w.y1; ++y)
                        for (int x = w.x0; x < w.x1; ++x) {
                            const int v = a.input[((long(b) * a.in_h + y) * a.in_w + x) * in_stride + c];
                            max = v > max ? v : max;
                            sum += v;
                        }
                    const int count = (w.y1 - w.y0) * (w.x1 - w.x0);
                    const float value = is_max ? float(max) : float(sum) / float(count);
                    out[c] = requantize_u8_ref(value * a.rescale);
                }
            }
}

}  // namespace

void maxpool2d_u8_ref(const Pool2dU8Args& a) { pool_u8<true>(a); }
void avgpool2d_u8_ref(const Pool2dU8Args& a) { pool_u8<false>(a); }

void copy_channels_u8_ref(const std::uint8_t* src, int src_pixel_stride, int pixels, int c, std::uint8_t* dst,
                          int dst_pixel_stride, int offset, float rescale) {
    for (long p = 0; p < pixels; ++p)
        for (int k = 0; k < c; ++k)
            dst[p * dst_pixel_stride + offset + k] =
                rescale == 1.0f ? src[p * src_pixel_stride + k] : requantize_u8_ref(float(src[p * src_pixel_stride + k]) * rescale);
}

}  // namespace tinception::kernels
