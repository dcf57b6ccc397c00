// Softmax regression: the loss and its gradient are computed in double over the batch's rows,
// the parameters are kept in float. Gradients (per row i, class c):
//   dL/dz_ic = w_yi * (p_ic - [c == y_i]) / B,  dL/dW = dZ^T X + l2 W,  dL/db = sum_i dZ_i.
// Both products have as many columns as classes, a handful: a general GEMM spent most of a
// step packing the batch's rows, so they are loops over the float rows, in double, in a fixed
// order (the kernel table's head_dots and head_outer, whose bits do not depend on the table: the
// same model for any thread count, run and kernel set).
#include "train/final_layer.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "parallel/thread_pool.hpp"
#include "train/sampling.hpp"

namespace tinception {
namespace {

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A batch's rows are cut into tasks of this many, a number that does not depend on the thread
// count: the gradient adds each task's share in task order, the same sums for any threads.
constexpr std::size_t kRowsPerTask = 32;

int row_tasks(std::size_t rows) { return int((rows + kRowsPerTask - 1) / kRowsPerTask); }

// Task t's rows of a batch of n: from position `first` of the batch, `count` of them, in order.
struct TaskRows {
    std::size_t first, count;
    const float* rows[kRowsPerTask];

    TaskRows(int t, std::size_t n, const FeatureSet& data, const std::size_t* indices)
        : first(std::size_t(t) * kRowsPerTask), count(std::min(n - first, kRowsPerTask)) {
        for (std::size_t r = 0; r < count; ++r) rows[r] = data.row(indices[first + r]);
    }
};

// Probabilities for the rows of `data` listed in `indices`, plus each row's cross-entropy.
MatrixD batch_probabilities(const SoftmaxLayer& layer, const FeatureSet& data, const std::size_t* indices,
                            std::size_t n, Eigen::VectorXd* row_loss) {
    const int f = layer.feature_size, classes = layer.n_classes;
    const kernels::HeadDotsFn dots = active_kernels().head_dots;
    const std::vector<double> weights(layer.weights.begin(), layer.weights.end());  // widened once a batch
    MatrixD z(Eigen::Index(n), classes);  // row-major: row i's logits at i * classes
    parallel_for(row_tasks(n), [&](int t) {  // each row's logits alone: any cut gives the same
        const TaskRows task(t, n, data, indices);
        dots(task.rows, int(task.count), weights.data(), classes, f, z.data() + task.first * std::size_t(classes));
        for (std::size_t r = task.first; r < task.first + task.count; ++r)
            for (int c = 0; c < classes; ++c) z(Eigen::Index(r), c) += double(layer.bias[std::size_t(c)]);
    });
    MatrixD logits = z;
    Eigen::VectorXd lse(z.rows());
    softmax_rows(z.data(), n, std::size_t(classes), lse.data());
    if (row_loss) {
        row_loss->resize(Eigen::Index(n));
        for (std::size_t i = 0; i < n; ++i)
            (*row_loss)(Eigen::Index(i)) = lse(Eigen::Index(i)) - logits(Eigen::Index(i), data.labels[indices[i]]);
    }
    return z;
}

int argmax_row(const MatrixD& p, Eigen::Index i) {
    Eigen::Index best = 0;
    for (Eigen::Index c = 1; c < p.cols(); ++c)
        if (p(i, c) > p(i, best)) best = c;
    return int(best);
}

void check_data(const FeatureSet& data, int n_classes, int feature_size, const char* what) {
    if (data.size() == 0 && data.features.empty()) return;  // an empty set of any declared width
    if (data.feature_size != feature_size)
        throw Error(std::string(what) + " features have size " + std::to_string(data.feature_size) + ", expected " +
                    std::to_string(feature_size));
    if (data.features.size() != data.size() * std::size_t(feature_size))
        throw Error(std::string(what) + " set holds " + std::to_string(data.features.size()) + " floats for " +
                    std::to_string(data.size()) + " labels of feature size " + std::to_string(feature_size));
    for (int label : data.labels)
        if (label < 0 || label >= n_classes)
            throw Error(std::string(what) + " set has label " + std::to_string(label) + ", outside [0, " +
                        std::to_string(n_classes) + ")");
}

std::vector<std::size_t> sample_batch(std::mt19937_64& rng, std::size_t n, int batch_size) {
    std::vector<std::size_t> idx;
    if (batch_size <= 0 || std::size_t(batch_size) >= n) {
        // whole set, in order
        idx.resize(n);
        for (std::size_t i = 0; i < n; ++i) idx[i] = i;
        return idx;
    }
    idx.resize(std::size_t(batch_size));
    for (auto& i : idx) i = std::size_t(uniform_index(rng, n));
    return idx;
}

// Accuracy and mean cross-entropy of `layer` on the listed rows.
std::pair<double, double> batch_metrics(const SoftmaxLayer& layer, const FeatureSet& data,
                                        const std::vector<std::size_t>& idx) {
    Eigen::VectorXd loss;
    const MatrixD p = batch_probabilities(layer, data, idx.data(), idx.size(), &loss);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < idx.size(); ++i)
        if (argmax_row(p, Eigen::Index(i)) == data.labels[idx[i]]) ++correct;
    return {double(correct) / double(idx.size()), loss.mean()};
}

}  // namespace

double softmax_loss(const SoftmaxLayer& layer, const FeatureSet& data, const std::vector<std::size_t>& indices,
                    const std::vector<float>& class_weights, float l2, std::vector<float>* grad_weights,
                    std::vector<float>* grad_bias) {
    const std::size_t n = indices.size();
    const int c_count = layer.n_classes, f = layer.feature_size;
    Eigen::VectorXd row_loss;
    MatrixD dz = batch_probabilities(layer, data, indices.data(), n, &row_loss);
    const Eigen::Map<const MatrixF> w(layer.weights.data(), c_count, f);
    double loss = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const int y = data.labels[indices[i]];
        const double weight = class_weights.empty() ? 1.0 : double(class_weights[std::size_t(y)]);
        loss += weight * row_loss(Eigen::Index(i));
        dz(Eigen::Index(i), y) -= 1.0;
        dz.row(Eigen::Index(i)) *= weight / double(n);
    }
    loss /= double(n);
    if (l2 != 0.0f) loss += 0.5 * double(l2) * w.cast<double>().squaredNorm();
    if (grad_weights) {
        // dZ^T X: each task's rows in order into its own share, then the shares in task order.
        const int tasks = row_tasks(n);
        const kernels::HeadOuterFn outer = active_kernels().head_outer;
        std::vector<MatrixD> shares(std::size_t(tasks), MatrixD::Zero(c_count, f));
        parallel_for(tasks, [&](int t) {
            const TaskRows task(t, n, data, indices.data());
            outer(task.rows, dz.data() + task.first * std::size_t(c_count), int(task.count), c_count, f,
                  shares[std::size_t(t)].data());
        });
        MatrixD gw = MatrixD::Zero(c_count, f);
        for (const MatrixD& share : shares) gw += share;
        if (l2 != 0.0f) gw += double(l2) * w.cast<double>();
        grad_weights->resize(std::size_t(c_count) * std::size_t(f));
        Eigen::Map<MatrixF>(grad_weights->data(), c_count, f) = gw.cast<float>();
    }
    if (grad_bias) {
        grad_bias->resize(std::size_t(c_count));
        Eigen::Map<Eigen::RowVectorXf>(grad_bias->data(), c_count) = dz.colwise().sum().cast<float>();
    }
    return loss;
}

std::vector<float> balanced_class_weights(const FeatureSet& data, int n_classes) {
    std::vector<std::size_t> counts(std::size_t(n_classes), 0);
    for (int label : data.labels) ++counts[std::size_t(label)];
    std::vector<float> weights(std::size_t(n_classes), 0.0f);
    for (int c = 0; c < n_classes; ++c)
        if (counts[std::size_t(c)] > 0)
            weights[std::size_t(c)] = float(double(data.size()) / (double(n_classes) * double(counts[std::size_t(c)])));
    return weights;
}

SoftmaxLayer init_softmax_layer(int n_classes, int feature_size, const TrainOptions& options) {
    if (n_classes < 2 || feature_size < 1)
        throw Error("a softmax layer needs at least 2 classes and 1 feature (got " + std::to_string(n_classes) +
                    " classes, " + std::to_string(feature_size) + " features)");
    SoftmaxLayer layer;
    layer.n_classes = n_classes;
    layer.feature_size = feature_size;
    layer.weights.assign(std::size_t(n_classes) * std::size_t(feature_size), 0.0f);
    layer.bias.assign(std::size_t(n_classes), 0.0f);
    if (options.init == WeightInit::small_normal) {
        std::mt19937_64 rng(options.seed ^ 0x9e3779b97f4a7c15ULL);  // a stream apart from batch sampling
        for (float& w : layer.weights) {
            double z;
            do z = standard_normal(rng);
            while (std::fabs(z) > 2.0);
            w = float(z * double(options.init_stddev));
        }
    }
    return layer;
}

TrainOutcome train_softmax(const FeatureSet& training, const FeatureSet& validation, int n_classes,
                           const TrainOptions& options, const ProgressCallback& progress) {
    if (training.size() == 0) throw Error("cannot train: the training set is empty");
    if (options.steps < 1 || options.learning_rate <= 0.0f || options.eval_step_interval < 1 || options.patience < 0)
        throw Error("training needs steps >= 1, learning rate > 0, eval interval >= 1 and patience >= 0");
    check_data(training, n_classes, training.feature_size, "training");
    check_data(validation, n_classes, training.feature_size, "validation");

    TrainOutcome out;
    SoftmaxLayer& layer = out.layer;
    layer = init_softmax_layer(n_classes, training.feature_size, options);
    const std::vector<float> class_weights =
        options.class_weighting ? balanced_class_weights(training, n_classes) : std::vector<float>{};
    std::mt19937_64 rng(options.seed);
    // The validation batch comes from a generator of its own and is drawn once, so every
    // evaluation compares the same rows and the training batches never depend on it.
    std::mt19937_64 validation_rng(options.seed ^ 0x76616c6964617465ull);  // "validate"
    const std::vector<std::size_t> validation_batch =
        validation.size() > 0 ? sample_batch(validation_rng, validation.size(), options.validation_batch_size)
                              : std::vector<std::size_t>{};
    SoftmaxLayer best;
    int evaluations_since_best = 0;
    out.best_validation_cross_entropy = std::numeric_limits<double>::infinity();
    std::vector<float> gw, gb;
    std::vector<float> mw, vw, mb, vb;  // Adam moments
    if (options.optimizer == Optimizer::adam) {
        mw.assign(layer.weights.size(), 0.0f);
        vw = mw;
        mb.assign(layer.bias.size(), 0.0f);
        vb = mb;
    }
    const float lr = options.learning_rate;
    for (int step = 0; step < options.steps; ++step) {
        const std::vector<std::size_t> batch = sample_batch(rng, training.size(), options.batch_size);
        softmax_loss(layer, training, batch, class_weights, options.l2, &gw, &gb);
        if (options.optimizer == Optimizer::sgd) {
            for (std::size_t i = 0; i < gw.size(); ++i) layer.weights[i] -= lr * gw[i];
            for (std::size_t i = 0; i < gb.size(); ++i) layer.bias[i] -= lr * gb[i];
        } else {
            const double t = double(step + 1);
            const float b1 = options.adam_beta1, b2 = options.adam_beta2;
            const float c1 = float(1.0 / (1.0 - std::pow(double(b1), t)));
            const float c2 = float(1.0 / (1.0 - std::pow(double(b2), t)));
            auto update = [&](std::vector<float>& p, const std::vector<float>& g, std::vector<float>& m,
                              std::vector<float>& v) {
                for (std::size_t i = 0; i < p.size(); ++i) {
                    m[i] = b1 * m[i] + (1.0f - b1) * g[i];
                    v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
                    p[i] -= lr * (m[i] * c1) / (std::sqrt(v[i] * c2) + options.adam_epsilon);
                }
            };
            update(layer.weights, gw, mw, vw);
            update(layer.bias, gb, mb, vb);
        }
        out.steps_run = step + 1;
        bool stop = false;
        const bool last = step + 1 == options.steps;
        if (step % options.eval_step_interval != 0 && !last) continue;
        TrainProgress report;
        report.step = step;
        if (!validation_batch.empty()) {
            std::tie(report.validation_accuracy, report.validation_cross_entropy) =
                batch_metrics(layer, validation, validation_batch);
            if (report.validation_cross_entropy < out.best_validation_cross_entropy) {
                out.best_validation_cross_entropy = report.validation_cross_entropy;
                out.best_step = step;
                if (options.keep_best) best = layer;
                evaluations_since_best = 0;
            } else {
                stop = options.patience > 0 && ++evaluations_since_best >= options.patience;
            }
        } else {
            report.validation_accuracy = report.validation_cross_entropy = std::numeric_limits<double>::quiet_NaN();
        }
        if (progress) {
            std::tie(report.train_accuracy, report.cross_entropy) = batch_metrics(layer, training, batch);
            progress(report);
        }
        if (stop) break;
    }
    if (options.keep_best && out.best_step >= 0) layer = std::move(best);
    if (out.best_step < 0) out.best_validation_cross_entropy = std::numeric_limits<double>::quiet_NaN();
    return out;
}

SoftmaxLayer train_softmax_layer(const FeatureSet& training, const FeatureSet& validation, int n_classes,
                                 const TrainOptions& options, const ProgressCallback& progress) {
    return train_softmax(training, validation, n_classes, options, progress).layer;
}

Evaluation evaluate(const SoftmaxLayer& layer, const FeatureSet& data, const FeatureSet* mirrored) {
    check_data(data, layer.n_classes, layer.feature_size, "evaluation");
    if (mirrored) {
        check_data(*mirrored, layer.n_classes, layer.feature_size, "mirrored evaluation");
        if (mirrored->labels != data.labels) throw Error("mirrored rows do not match the evaluation rows");
    }
    Evaluation e;
    e.confusion.assign(std::size_t(layer.n_classes), std::vector<int>(std::size_t(layer.n_classes), 0));
    e.predictions.resize(data.size());
    e.top_probability.resize(data.size());
    if (data.size() == 0) return e;
    constexpr std::size_t kChunk = 1024;  // bounds the double copy of the features
    std::vector<std::size_t> idx;
    std::size_t correct = 0;
    double loss_sum = 0;
    for (std::size_t start = 0; start < data.size(); start += kChunk) {
        const std::size_t n = std::min(kChunk, data.size() - start);
        idx.resize(n);
        for (std::size_t i = 0; i < n; ++i) idx[i] = start + i;
        Eigen::VectorXd loss;  // exact from the logits; with a mirror, -log of the mean probability
        MatrixD p = batch_probabilities(layer, data, idx.data(), n, mirrored ? nullptr : &loss);
        if (mirrored) p = 0.5 * (p + batch_probabilities(layer, *mirrored, idx.data(), n, nullptr));
        for (std::size_t i = 0; i < n; ++i) {
            const int predicted = argmax_row(p, Eigen::Index(i));
            const int truth = data.labels[start + i];
            loss_sum += mirrored ? -std::log(std::max(p(Eigen::Index(i), truth), std::numeric_limits<double>::min()))
                                 : loss(Eigen::Index(i));
            e.predictions[start + i] = predicted;
            e.top_probability[start + i] = float(p(Eigen::Index(i), predicted));
            ++e.confusion[std::size_t(truth)][std::size_t(predicted)];
            if (predicted == truth) ++correct;
        }
    }
    e.accuracy = double(correct) / double(data.size());
    e.cross_entropy = loss_sum / double(data.size());
    return e;
}

}  // namespace tinception
