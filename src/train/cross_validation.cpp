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

void check_folds(const std::vector<std::string>& relative_paths, int k) {
    if (k < 2) throw Error("cross-validation needs at least 2 folds (got " + std::to_string(k) + ")");
    std::vector<std::size_t> fold_size(std::size_t(k), 0);
    for (const std::string& path : relative_paths) ++fold_size[std::size_t(fold_of(path, k))];
    for (int f = 0; f < k; ++f)
        if (fold_size[std::size_t(f)] == 0 || fold_size[std::size_t(f)] == relative_paths.size())
            throw Error("--cross-validate " + std::to_string(k) + " leaves fold " + std::to_string(f + 1) + " of " +
                        std::to_string(relative_paths.size()) + " images empty; use fewer folds or more images");
}

CrossValidationResult cross_validate(const FeatureSet& data, const std::vector<std::string>& relative_paths,
                                     int n_classes, int k, const TrainOptions& options) {
    check_folds(relative_paths, k);
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
