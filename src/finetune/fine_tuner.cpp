// The fine-tuning loop. Per step: gather a batch of frozen-layer activations (mirrored ones
// too with options.mirror), run the span forward and pool its layers, take the head's softmax
// cross-entropy and its gradient (dense_softmax_backward), take it back through the pooling
// and the span, then one Adam update of every tensor. Everything outside the span runs on one
// thread in a fixed order.
#include "finetune/fine_tuner.hpp"

#include <algorithm>
#include <limits>
#include <random>
#include <string>

#include "error.hpp"
#include "train/sampling.hpp"

namespace tinception {
namespace {

// fine_tune_loss, also handing back the batch's features (for the progress report).
double batch_pass(TunedFeatures& features, const std::vector<TrainableConv>& initial, const SoftmaxLayer& head,
                  const float* inputs, const float* frozen, const int* labels, const float* row_weights, int n,
                  const FineTuneOptions& options, SoftmaxLayer* head_gradient, std::vector<float>& pooled) {
    const int f = features.feature_size();
    pooled.resize(std::size_t(n) * std::size_t(f));
    features.forward(inputs, frozen, n, pooled.data());
    std::vector<float> grad_pooled(pooled.size());
    head_gradient->n_classes = head.n_classes, head_gradient->feature_size = head.feature_size;
    head_gradient->weights.resize(head.weights.size());
    head_gradient->bias.resize(head.bias.size());
    kernels::DenseSoftmaxBackwardArgs a;
    a.input = pooled.data(), a.weights = head.weights.data(), a.bias = head.bias.data();
    a.labels = labels, a.row_weights = row_weights;
    a.grad_input = grad_pooled.data(), a.grad_weights = head_gradient->weights.data();
    a.grad_bias = head_gradient->bias.data();
    a.n = n, a.in_features = f, a.out_features = head.n_classes;
    double loss = features.span().backward_table().dense_softmax_backward(a);
    features.backward(grad_pooled.data());
    const double decay = options.span_weight_decay, l2 = options.head_l2;
    std::vector<TrainableConv>& convs = features.span().convolutions();
    if (decay != 0.0)
        for (std::size_t k = 0; k < convs.size(); ++k)
            for (std::size_t i = 0; i < convs[k].weights.size(); ++i) {
                const double d = double(convs[k].weights[i]) - double(initial[k].weights[i]);
                loss += 0.5 * decay * d * d;
                convs[k].grad_weights[i] += float(decay * d);
            }
    if (l2 != 0.0)
        for (std::size_t i = 0; i < head.weights.size(); ++i) {
            loss += 0.5 * l2 * double(head.weights[i]) * double(head.weights[i]);
            head_gradient->weights[i] += float(l2 * double(head.weights[i]));
        }
    return loss;
}

void check_set(const SpatialSet& set, const TunedFeatures& features, int n_classes) {
    const char* what = "fine-tuning";
    if (set.size() == 0) return;
    const ActivationShape& shape = features.input_shape();
    if (set.frozen_size != features.frozen_size() ||
        set.frozen.size() != set.size() * std::size_t(set.frozen_size))
        throw Error("fine-tuning set holds " + std::to_string(set.frozen_size) + " frozen values per image, the "
                    "features take " + std::to_string(features.frozen_size()));
    if (set.shape.h != shape.h || set.shape.w != shape.w || set.shape.c != shape.c)
        throw Error(std::string(what) + " activations are " + std::to_string(set.shape.h) + "x" +
                    std::to_string(set.shape.w) + "x" + std::to_string(set.shape.c) + ", the span reads " +
                    std::to_string(shape.h) + "x" + std::to_string(shape.w) + "x" + std::to_string(shape.c));
    if (set.activations.size() != set.size() * set.floats_per_image())
        throw Error(std::string(what) + " set holds " + std::to_string(set.activations.size()) + " floats for " +
                    std::to_string(set.size()) + " images");
    for (int label : set.labels)
        if (label < 0 || label >= n_classes)
            throw Error(std::string(what) + " set has label " + std::to_string(label) + ", outside [0, " +
                        std::to_string(n_classes) + ")");
}

// Indices of a seeded shuffle, reshuffled each time it runs out.
class EpochSampler {
public:
    EpochSampler(std::size_t n, std::uint64_t seed) : order_(n), rng_(seed) {}
    std::size_t next() {
        if (position_ == 0) {
            for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
            for (std::size_t i = order_.size() - 1; i > 0; --i)  // Fisher-Yates
                std::swap(order_[i], order_[std::size_t(uniform_index(rng_, i + 1))]);
        }
        const std::size_t i = order_[position_];
        position_ = (position_ + 1) % order_.size();
        return i;
    }

private:
    std::vector<std::size_t> order_;
    std::mt19937_64 rng_;
    std::size_t position_ = 0;
};

}  // namespace

std::vector<std::size_t> all_rows(const SpatialSet& set) {
    std::vector<std::size_t> rows(set.size());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    return rows;
}

void mirror_activations(const float* image, const ActivationShape& shape, float* out) {
    const std::size_t c = std::size_t(shape.c);
    for (int y = 0; y < shape.h; ++y)
        for (int x = 0; x < shape.w; ++x)
            std::copy_n(image + (std::size_t(y) * shape.w + std::size_t(shape.w - 1 - x)) * c, c,
                        out + (std::size_t(y) * shape.w + std::size_t(x)) * c);
}

FeatureSet pooled_features(TunedFeatures& tuned, const SpatialSet& set, const std::vector<std::size_t>& rows,
                           int batch_size, bool mirrored) {
    FeatureSet features;
    features.feature_size = tuned.feature_size();
    features.features.resize(rows.size() * std::size_t(features.feature_size));
    const std::size_t step = std::size_t(batch_size > 0 ? batch_size : 1), image_floats = set.floats_per_image();
    std::vector<float> batch(std::min(step, rows.size()) * image_floats);
    std::vector<float> frozen(std::min(step, rows.size()) * std::size_t(set.frozen_size));
    for (std::size_t start = 0; start < rows.size(); start += step) {
        const std::size_t n = std::min(step, rows.size() - start);
        for (std::size_t b = 0; b < n; ++b) {
            const std::size_t i = rows[start + b];
            if (mirrored)
                mirror_activations(set.image(i), set.shape, batch.data() + b * image_floats);
            else
                std::copy_n(set.image(i), image_floats, batch.data() + b * image_floats);
            std::copy_n(set.frozen_row(i), set.frozen_size, frozen.data() + b * std::size_t(set.frozen_size));
            features.labels.push_back(set.labels[i]);
        }
        tuned.forward(batch.data(), frozen.data(), int(n),
                      features.features.data() + start * std::size_t(features.feature_size));
    }
    return features;
}

double fine_tune_loss(TunedFeatures& features, const std::vector<TrainableConv>& initial, const SoftmaxLayer& head,
                      const float* inputs, const float* frozen, const int* labels, const float* row_weights, int n,
                      const FineTuneOptions& options, SoftmaxLayer* head_gradient) {
    std::vector<float> pooled;
    return batch_pass(features, initial, head, inputs, frozen, labels, row_weights, n, options, head_gradient, pooled);
}

FineTuneOutcome fine_tune(TunedFeatures& features, const SpatialSet& set, const std::vector<std::size_t>& training,
                          const std::vector<std::size_t>& validation, SoftmaxLayer head,
                          const FineTuneOptions& options, const ProgressCallback& progress) {
    if (training.empty()) throw Error("cannot fine-tune: the training set is empty");
    if (options.steps < 1 || options.batch_size < 1 || options.eval_step_interval < 1 || options.patience < 0 ||
        options.eval_batch_size < 1 || !(options.head_learning_rate > 0.0f) || !(options.span_learning_rate >= 0.0f))
        throw Error("fine-tuning needs steps, batch sizes and eval interval >= 1, patience >= 0, a head learning rate "
                    "> 0 and a span learning rate >= 0");
    if (head.feature_size != features.feature_size() || head.n_classes < 2)
        throw Error("the head reads " + std::to_string(head.feature_size) + " features, the span gives " +
                    std::to_string(features.feature_size()));
    check_set(set, features, head.n_classes);
    for (const std::vector<std::size_t>* rows : {&training, &validation})
        for (const std::size_t i : *rows)
            if (i >= set.size())
                throw Error("fine-tuning row " + std::to_string(i) + " of a set of " + std::to_string(set.size()),
                            ErrorKind::internal);

    SpanBackprop& span = features.span();
    const std::vector<TrainableConv> initial = span.convolutions();
    std::vector<float> class_weights;
    if (options.class_weighting) {
        FeatureSet labels_only;
        for (const std::size_t i : training) labels_only.labels.push_back(set.labels[i]);
        class_weights = balanced_class_weights(labels_only, head.n_classes);
    }
    // Samples 0..N-1 are the training rows, N..2N-1 their mirrors.
    EpochSampler sampler(training.size() * (options.mirror ? 2 : 1), options.seed);
    const std::size_t image_floats = set.floats_per_image(), frozen_floats = std::size_t(set.frozen_size);
    std::vector<float> batch(std::size_t(options.batch_size) * image_floats), row_weights, pooled;
    std::vector<float> frozen(std::size_t(options.batch_size) * frozen_floats);
    std::vector<int> labels(std::size_t(options.batch_size));
    std::vector<AdamMoments> conv_moments(2 * initial.size()), head_moments(2);
    SoftmaxLayer head_gradient;

    FineTuneOutcome out;
    out.best_validation_cross_entropy = std::numeric_limits<double>::infinity();
    SoftmaxLayer best_head;
    std::vector<TrainableConv> best_convs;
    int evaluations_since_best = 0;
    for (int step = 0; step < options.steps; ++step) {
        row_weights.clear();
        for (std::size_t b = 0; b < labels.size(); ++b) {
            const std::size_t sample = sampler.next(), i = training[sample % training.size()];
            if (sample >= training.size())
                mirror_activations(set.image(i), set.shape, batch.data() + b * image_floats);
            else
                std::copy_n(set.image(i), image_floats, batch.data() + b * image_floats);
            std::copy_n(set.frozen_row(i), frozen_floats, frozen.data() + b * frozen_floats);
            labels[b] = set.labels[i];
            if (!class_weights.empty()) row_weights.push_back(class_weights[std::size_t(labels[b])]);
        }
        const double loss = batch_pass(features, initial, head, batch.data(), frozen.data(), labels.data(),
                                       row_weights.empty() ? nullptr : row_weights.data(), options.batch_size,
                                       options, &head_gradient, pooled);
        TrainProgress report;
        report.step = step;
        report.cross_entropy = loss;
        if (progress) {
            FeatureSet seen;
            seen.feature_size = head.feature_size, seen.features = pooled, seen.labels = labels;
            report.train_accuracy = evaluate(head, seen).accuracy;  // before the update, as the loss
        }
        std::vector<TrainableConv>& convs = span.convolutions();
        for (std::size_t k = 0; k < convs.size(); ++k) {
            adam_update(convs[k].weights, convs[k].grad_weights, conv_moments[2 * k], options.span_learning_rate,
                        step + 1, options.adam);
            adam_update(convs[k].bias, convs[k].grad_bias, conv_moments[2 * k + 1], options.span_learning_rate,
                        step + 1, options.adam);
        }
        adam_update(head.weights, head_gradient.weights, head_moments[0], options.head_learning_rate, step + 1,
                    options.adam);
        adam_update(head.bias, head_gradient.bias, head_moments[1], options.head_learning_rate, step + 1,
                    options.adam);
        out.steps_run = step + 1;
        const bool last = step + 1 == options.steps;
        if (step % options.eval_step_interval != 0 && !last) continue;
        bool stop = false;
        if (!validation.empty()) {
            const Evaluation e = evaluate(head, pooled_features(features, set, validation, options.eval_batch_size));
            report.validation_accuracy = e.accuracy, report.validation_cross_entropy = e.cross_entropy;
            if (e.cross_entropy < out.best_validation_cross_entropy) {
                out.best_validation_cross_entropy = e.cross_entropy;
                out.best_step = step;
                if (options.keep_best) best_head = head, best_convs = span.convolutions();
                evaluations_since_best = 0;
            } else {
                stop = options.patience > 0 && ++evaluations_since_best >= options.patience;
            }
        } else {
            report.validation_accuracy = report.validation_cross_entropy = std::numeric_limits<double>::quiet_NaN();
        }
        if (progress) progress(report);
        if (stop) break;
    }
    if (options.keep_best && out.best_step >= 0) {
        head = std::move(best_head);
        span.convolutions() = std::move(best_convs);
    }
    if (out.best_step < 0) out.best_validation_cross_entropy = std::numeric_limits<double>::quiet_NaN();
    out.head = std::move(head);
    out.convolutions = span.convolutions();
    for (TrainableConv& c : out.convolutions) c.grad_weights.clear(), c.grad_bias.clear();
    return out;
}

}  // namespace tinception
