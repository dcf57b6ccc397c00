// The portable fast path: convolution as im2col + Eigen matrix product, other ops
// from the reference set. Tested against the reference kernels like any other table.
#include <Eigen/Core>
#include <vector>

#include "kernel_dispatch.hpp"
#include "reference.hpp"

namespace tinception {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRowMap = Eigen::Map<const RowMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;
using RowMap = Eigen::Map<RowMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;

// Patch rows ordered (ic, ky, kx) to match OIHW weights; taps outside the input are zero.
void im2col(const kernels::Conv2dArgs& a, const float* image, long in_stride, float* patches) {
    const int k = a.in_c * a.kernel_h * a.kernel_w;
    for (int y = 0; y < a.out_h; ++y)
        for (int x = 0; x < a.out_w; ++x) {
            float* row = patches + (long(y) * a.out_w + x) * k;
            for (int ic = 0; ic < a.in_c; ++ic)
                for (int ky = 0; ky < a.kernel_h; ++ky) {
                    const int iy = y * a.stride_h + ky - a.pad_top;
                    for (int kx = 0; kx < a.kernel_w; ++kx) {
                        const int ix = x * a.stride_w + kx - a.pad_left;
                        const bool inside = iy >= 0 && iy < a.in_h && ix >= 0 && ix < a.in_w;
                        *row++ = inside ? image[(long(iy) * a.in_w + ix) * in_stride + ic] : 0.0f;
                    }
                }
        }
}

void conv2d_im2col_eigen(const kernels::Conv2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    const long out_stride = a.out_pixel_stride ? a.out_pixel_stride : a.out_c;
    const long k = long(a.in_c) * a.kernel_h * a.kernel_w;
    const long pixels = long(a.out_h) * a.out_w;
    const bool pointwise = a.kernel_h == 1 && a.kernel_w == 1 && a.stride_h == 1 &&
                           a.stride_w == 1 && a.pad_top == 0 && a.pad_left == 0;
    const ConstRowMap weights(a.weights, a.out_c, k, Eigen::OuterStride<>(k));
    std::vector<float> patches(pointwise ? 0 : std::size_t(pixels * k));
    for (int b = 0; b < a.n; ++b) {
        const float* image = a.input + long(b) * a.in_h * a.in_w * in_stride;
        const float* rows = image;
        long row_stride = in_stride;
        if (!pointwise) {
            im2col(a, image, in_stride, patches.data());
            rows = patches.data();
            row_stride = k;
        }
        const ConstRowMap in(rows, pixels, k, Eigen::OuterStride<>(row_stride));
        RowMap out(a.output + long(b) * pixels * out_stride, pixels, a.out_c,
                   Eigen::OuterStride<>(out_stride));
        out.noalias() = in * weights.transpose();
        if (a.bias) out.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(a.bias, a.out_c);
        if (a.relu) out = out.cwiseMax(0.0f);
    }
}

void dense_eigen(const kernels::DenseArgs& a) {
    const ConstRowMap in(a.input, a.n, a.in_features, Eigen::OuterStride<>(a.in_features));
    const ConstRowMap w(a.weights, a.out_features, a.in_features, Eigen::OuterStride<>(a.in_features));
    RowMap out(a.output, a.n, a.out_features, Eigen::OuterStride<>(a.out_features));
    out.noalias() = in * w.transpose();
    if (a.bias) out.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(a.bias, a.out_features);
}

}  // namespace

const kernels::KernelTable& eigen_kernels() {
    static const kernels::KernelTable table = [] {
        kernels::KernelTable t = kernels::reference_kernels();
        t.isa_name = "eigen";
        t.conv2d = conv2d_im2col_eigen;
        t.dense = dense_eigen;
        return t;
    }();
    return table;
}

}  // namespace tinception
