// Reference dense layer, softmax and channel copy (the building block of concat).
#include <cassert>
#include <cmath>

#include "reference.hpp"

namespace tinception::kernels {

// out[b][j] = bias[j] + sum_i in[b][i] * w[j][i]
void dense_ref(const DenseArgs& a) {
    assert(a.input && a.weights && a.output);
    for (int b = 0; b < a.n; ++b)
        for (int j = 0; j < a.out_features; ++j) {
            double sum = a.bias ? a.bias[j] : 0.0;
            for (int i = 0; i < a.in_features; ++i)
                sum += double(a.input[long(b) * a.in_features + i]) *
                       double(a.weights[long(j) * a.in_features + i]);
            a.output[long(b) * a.out_features + j] = float(sum);
        }
}

// out[r][i] = exp(in[r][i] - m) / sum_j exp(in[r][j] - m), m = max_j in[r][j]; subtracting
// the max keeps exp() from overflowing on large logits.
void softmax_ref(const float* input, float* output, int rows, int length) {
    for (int r = 0; r < rows; ++r) {
        const float* in = input + long(r) * length;
        float* out = output + long(r) * length;
        float m = in[0];
        for (int i = 1; i < length; ++i) m = in[i] > m ? in[i] : m;
        double total = 0.0;
        for (int i = 0; i < length; ++i) total += std::exp(double(in[i]) - m);
        for (int i = 0; i < length; ++i) out[i] = float(std::exp(double(in[i]) - m) / total);
    }
}

// dst[p][offset + ch] = src[p][ch]
void copy_channels_ref(const float* src, int pixels, int c, float* dst, int dst_pixel_stride,
                       int offset) {
    for (long p = 0; p < pixels; ++p)
        for (int ch = 0; ch < c; ++ch) dst[p * dst_pixel_stride + offset + ch] = src[p * c + ch];
}

}  // namespace tinception::kernels
