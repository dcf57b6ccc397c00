// Softmax of the head, in double with Eigen; training computes its loss with the same rows.
#include "classify/softmax_head.hpp"

#include <Eigen/Dense>
#include <cmath>

namespace tinception {
namespace {

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

void softmax_rows(double* logits, std::size_t rows, std::size_t cols, double* log_sum_exp) {
    Eigen::Map<MatrixD> z(logits, Eigen::Index(rows), Eigen::Index(cols));
    for (Eigen::Index i = 0; i < z.rows(); ++i) {
        const double m = z.row(i).maxCoeff();
        z.row(i) = (z.row(i).array() - m).exp().matrix();
        const double s = z.row(i).sum();
        z.row(i) /= s;
        if (log_sum_exp) log_sum_exp[i] = m + std::log(s);
    }
}

void softmax_forward(const SoftmaxLayer& layer, const float* features, std::size_t n, float* probabilities) {
    const int f = layer.feature_size;
    const Eigen::Map<const MatrixF> x(features, Eigen::Index(n), f);
    const Eigen::Map<const MatrixF> w(layer.weights.data(), layer.n_classes, f);
    const Eigen::Map<const Eigen::RowVectorXf> b(layer.bias.data(), layer.n_classes);
    MatrixD z = x.cast<double>() * w.cast<double>().transpose();
    z.rowwise() += b.cast<double>();
    softmax_rows(z.data(), n, std::size_t(layer.n_classes), nullptr);
    Eigen::Map<MatrixF>(probabilities, Eigen::Index(n), layer.n_classes) = z.cast<float>();
}

}  // namespace tinception
