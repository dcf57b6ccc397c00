// Reference backward of dense + softmax + mean cross-entropy, in double throughout.
#include <cassert>
#include <cmath>
#include <vector>

#include "backward/backward_kernels.hpp"

namespace tinception::kernels {

// z = x W^T + bias, p = softmax(z) row by row, L = (1/n) sum_b r_b * (logsumexp(z_b) - z_b[y_b]);
// dL/dz[b][j] = r_b * (p[b][j] - [j == y_b]) / n, then
//   grad_w[j][i] = sum_b dz[b][j] * x[b][i],  grad_bias[j] = sum_b dz[b][j],
//   grad_in[b][i] = sum_j dz[b][j] * w[j][i].
double dense_softmax_backward_ref(const DenseSoftmaxBackwardArgs& a) {
    assert(a.input && a.weights && a.labels && a.n > 0 && a.out_features > 0);
    const long classes = a.out_features, features = a.in_features;
    std::vector<double> dz(std::size_t(a.n) * std::size_t(classes));
    double loss = 0.0;
    for (long b = 0; b < a.n; ++b) {
        double* z = dz.data() + b * classes;
        double top = -INFINITY;
        for (long j = 0; j < classes; ++j) {
            double sum = a.bias ? a.bias[j] : 0.0;
            for (long i = 0; i < features; ++i) sum += double(a.input[b * features + i]) * a.weights[j * features + i];
            z[j] = sum;
            top = sum > top ? sum : top;
        }
        double total = 0.0;
        for (long j = 0; j < classes; ++j) total += std::exp(z[j] - top);
        const int label = a.labels[b];
        assert(label >= 0 && label < classes);
        const double row_weight = a.row_weights ? a.row_weights[b] : 1.0;
        loss += row_weight * (top + std::log(total) - z[label]);
        for (long j = 0; j < classes; ++j)
            z[j] = row_weight * (std::exp(z[j] - top) / total - (j == label ? 1.0 : 0.0)) / a.n;
    }
    if (a.grad_weights)
        for (long j = 0; j < classes; ++j)
            for (long i = 0; i < features; ++i) {
                double sum = 0.0;
                for (long b = 0; b < a.n; ++b) sum += dz[std::size_t(b * classes + j)] * a.input[b * features + i];
                a.grad_weights[j * features + i] = float(sum);
            }
    if (a.grad_bias)
        for (long j = 0; j < classes; ++j) {
            double sum = 0.0;
            for (long b = 0; b < a.n; ++b) sum += dz[std::size_t(b * classes + j)];
            a.grad_bias[j] = float(sum);
        }
    if (a.grad_input)
        for (long b = 0; b < a.n; ++b)
            for (long i = 0; i < features; ++i) {
                double sum = 0.0;
                for (long j = 0; j < classes; ++j) sum += dz[std::size_t(b * classes + j)] * a.weights[j * features + i];
                a.grad_input[b * features + i] = float(sum);
            }
    return loss / a.n;
}

}  // namespace tinception::kernels
