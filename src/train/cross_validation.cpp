// k-fold cross-validation: fold assignment, per-fold training, mean and spread.
#include "train/cross_validation.hpp"

#include <cmath>

#include "error.hpp"
#include "train/dataset.hpp"

namespace tinception {
namespace {

void append_row(FeatureSet& set, const FeatureSet& data, std::size_t i) {
    set.features.insert(set.features.end(), data.row(i), data.row(i) + data.feature_size);
    set.labels.push_back(data.labels[i]);
}

}  // namespace

int fold_of(const std::string& relative_path, int k) {
    return int((split_hash(relative_path) / 1'000'000u) % std::uint64_t(k));
}

CrossValidationResult cross_validate(const FeatureSet& data, const std::vector<std::string>& relative_paths,
                                     int n_classes, int k, const TrainOptions& options) {
    if (k < 2) throw Error("cross-validation needs at least 2 folds (got " + std::to_string(k) + ")");
    if (relative_paths.size() != data.size())
        throw Error("cross-validation got " + std::to_string(relative_paths.size()) + " paths for " +
                    std::to_string(data.size()) + " feature rows");
    std::vector<int> fold(data.size());
    for (std::size_t i = 0; i < data.size(); ++i) fold[i] = fold_of(relative_paths[i], k);
    CrossValidationResult result;
    for (int f = 0; f < k; ++f) {
        FeatureSet train, held_out;
        train.feature_size = held_out.feature_size = data.feature_size;
        for (std::size_t i = 0; i < data.size(); ++i) append_row(fold[i] == f ? held_out : train, data, i);
        if (held_out.size() == 0 || train.size() == 0)
            throw Error("cross-validation fold " + std::to_string(f + 1) + " of " + std::to_string(k) +
                        " is empty; use fewer folds or more images");
        FeatureSet no_validation;
        no_validation.feature_size = data.feature_size;
        const SoftmaxLayer layer = train_softmax_layer(train, no_validation, n_classes, options);
        result.fold_accuracy.push_back(evaluate(layer, held_out).accuracy);
    }
    double sum = 0;
    for (double a : result.fold_accuracy) sum += a;
    result.mean_accuracy = sum / k;
    double sq = 0;
    for (double a : result.fold_accuracy) sq += (a - result.mean_accuracy) * (a - result.mean_accuracy);
    result.stddev_accuracy = std::sqrt(sq / (k - 1));
    return result;
}

}  // namespace tinception
