// Reference int8 convolution. Written to be read, not to be fast: the AVX2 kernel
// (conv2d_int8_avx2.cpp) is tested against it for exact equality.
#include <cassert>
#include <cmath>

#include "int8/int8_kernel_table.hpp"

namespace tinception::kernels {

// acc = sum_{ky,kx,ic} in[b][oy*sy+ky-pt][ox*sx+kx-pl][ic] * w[oc][ky][kx][ic];
// v = fma(float(acc), scale[oc], bias[oc]); u8: clamp(round(v)); float: relu ? max(v, 0) : v
void conv2d_int8_ref(const Conv2dInt8Args& a) {
    const int in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const int out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    const long pixels = long(a.n) * a.out_h * a.out_w;
    const long end = a.pixel_end ? a.pixel_end : pixels;
    assert(a.pixel_begin >= 0 && end <= pixels);
    for (long p = a.pixel_begin; p < end; ++p) {
        const int b = int(p / (long(a.out_h) * a.out_w));
        const int oy = int(p / a.out_w % a.out_h);
        const int ox = int(p % a.out_w);
        for (int oc = 0; oc < a.out_c; ++oc) {
            std::int32_t acc = 0;
            for (int ky = 0; ky < a.kernel_h; ++ky) {
                const int iy = oy * a.stride_h + ky - a.pad_top;
                if (iy < 0 || iy >= a.in_h) continue;
                for (int kx = 0; kx < a.kernel_w; ++kx) {
                    const int ix = ox * a.stride_w + kx - a.pad_left;
                    if (ix < 0 || ix >= a.in_w) continue;
                    const std::uint8_t* in = a.input + ((long(b) * a.in_h + iy) * a.in_w + ix) * in_stride;
                    const std::int8_t* w = a.weights + ((long(oc) * a.kernel_h + ky) * a.kernel_w + kx) * a.in_c;
                    for (int ic = 0; ic < a.in_c; ++ic) acc += std::int32_t(in[ic]) * std::int32_t(w[ic]);
                }
            }
            const float v = std::fma(float(acc), a.scale[oc], a.bias[oc]);
            if (a.float_output) {
                static_cast<float*>(a.output)[p * out_stride + oc] = a.relu && v < 0.0f ? 0.0f : v;
            } else {
                static_cast<std::uint8_t*>(a.output)[p * out_stride + oc] = requantize_u8_ref(v);
            }
        }
    }
}

}  // namespace tinception::kernels
