// Reference 2-D convolution, NHWC activations and OIHW weights. Written to be read,
// not to be fast: the optimised versions are tested against it.
#include <cassert>

#include "reference.hpp"

namespace tinception::kernels {

// out[b][y][x][oc] = act(bias[oc] + sum_{ic,ky,kx} in[b][y*sy+ky-pt][x*sx+kx-pl][ic] * w[oc][ic][ky][kx])
// where taps that fall outside the input read zero.
void conv2d_direct_ref(const Conv2dArgs& a) {
    assert(a.input && a.weights && a.output);
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    for (int b = 0; b < a.n; ++b)
        for (int y = 0; y < a.out_h; ++y)
            for (int x = 0; x < a.out_w; ++x)
                for (int oc = 0; oc < a.out_c; ++oc) {
                    double sum = a.bias ? a.bias[oc] : 0.0;
                    for (int ic = 0; ic < a.in_c; ++ic)
                        for (int ky = 0; ky < a.kernel_h; ++ky) {
                            const int iy = y * a.stride_h + ky - a.pad_top;
                            if (iy < 0 || iy >= a.in_h) continue;
                            for (int kx = 0; kx < a.kernel_w; ++kx) {
                                const int ix = x * a.stride_w + kx - a.pad_left;
                                if (ix < 0 || ix >= a.in_w) continue;
                                const float in =
                                    a.input[((long(b) * a.in_h + iy) * a.in_w + ix) * in_stride + ic];
                                const float w =
                                    a.weights[((long(oc) * a.in_c + ic) * a.kernel_h + ky) * a.kernel_w + kx];
                                sum += double(in) * double(w);
                            }
                        }
                    float value = float(sum);
                    if (a.relu && value < 0.0f) value = 0.0f;
                    a.output[((long(b) * a.out_h + y) * a.out_w + x) * out_stride + oc] = value;
                }
}

}  // namespace tinception::kernels
