// The bf16 convolution's reference: what conv2d_bf16_avx512 computes, one output at a time in
// its order, so the two agree bit for bit.
#include "bf16/bf16.hpp"
#include "bf16/conv2d_bf16.hpp"

namespace tinception::kernels {

void conv2d_bf16_ref(const Conv2dArgs& a) {
    const int in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const int out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    const int k_total = a.kernel_h * a.kernel_w * a.in_c;
    const int pairs = (k_total + 1) / 2;
    std::uint16_t x[2], w[2];
    for (int b = 0; b < a.n; ++b)
        for (int oy = 0; oy < a.out_h; ++oy)
            for (int ox = 0; ox < a.out_w; ++ox)
                for (int oc = 0; oc < a.out_c; ++oc) {
                    float acc = 0.0f;
                    for (int j = 0; j < pairs; ++j) {
                        for (int e = 0; e < 2; ++e) {
                            const int k = 2 * j + e;  // k runs over (ky, kx, ic)
                            x[e] = w[e] = 0;
                            if (k >= k_total) continue;
                            const int ic = k % a.in_c, kx = k / a.in_c % a.kernel_w, ky = k / a.in_c / a.kernel_w;
                            const int iy = oy * a.stride_h + ky - a.pad_top, ix = ox * a.stride_w + kx - a.pad_left;
                            if (iy >= 0 && iy < a.in_h && ix >= 0 && ix < a.in_w)
                                x[e] = bf16::from_float(a.input[((long(b) * a.in_h + iy) * a.in_w + ix) * in_stride + ic]);
                            w[e] = bf16::from_float(
                                a.weights[((long(oc) * a.in_c + ic) * a.kernel_h + ky) * a.kernel_w + kx]);
                        }
                        acc = bf16::dot_pair(acc, x[0], x[1], w[0], w[1]);
                    }
                    float v = acc + (a.bias ? a.bias[oc] : 0.0f);
                    if (a.relu && !(v > 0.0f)) v = 0.0f;
                    a.output[((long(b) * a.out_h + oy) * a.out_w + ox) * out_stride + oc] = v;
                }
}

}  // namespace tinception::kernels
