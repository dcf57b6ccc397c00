// The softmax head's two loops (kernel_table.hpp, head_dots and head_outer), as plain loops.
#include <cstddef>

#include "reference.hpp"
#include "softmax_head.hpp"

namespace tinception::kernels {

namespace {

double dot(const float* x, const double* w, int n) {
    constexpr int kSums = 8;
    double part[kSums] = {};
    int j = 0;
    for (; j + kSums <= n; j += kSums)
        for (int k = 0; k < kSums; ++k) part[k] += double(x[j + k]) * w[j + k];
    double sum = 0;
    for (; j < n; ++j) sum += double(x[j]) * w[j];
    for (int k = 0; k < kSums; ++k) sum += part[k];
    return sum;
}

}  // namespace

void head_dots_ref(const float* const* x, int rows, const double* w, int classes, int n, double* z) {
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < classes; ++c) z[r * classes + c] = dot(x[r], w + std::size_t(c) * std::size_t(n), n);
}

void head_outer_ref(const float* const* x, const double* g, int rows, int classes, int n, double* out) {
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < classes; ++c)
            for (int j = 0; j < n; ++j)
                out[std::size_t(c) * std::size_t(n) + std::size_t(j)] += rounded_product(g[r * classes + c], double(x[r][j]));
}

}  // namespace tinception::kernels
