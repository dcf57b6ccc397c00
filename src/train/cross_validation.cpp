// k-fold cross-validation: fold assignment, per-fold training, mean and spread.
#include "train/cross_validation.hpp"

#include <cmath>

#include "classify/feature_standardization.hpp"
#include "error.hpp"
#include "train/dataset.hpp"

namespace tinception {
namespace {

void append_row(FeatureSet& set, const FeatureSet& data, std::size_t i) {
    set.features.insert(set.features.end(), data.row(i), data.row(i) + data.feature_size);
    set.labels.push_back(data.labels[i]);
}

// splitmix64's finaliser: every bit of the input moves about half of the output's.
std::uint64_t mix(std::uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

}  // namespace

CrossValidationResult summarise_folds(std::vector<double> fold_accuracy) {
    CrossValidationResult result;
    result.fold_accuracy = std::move(fold_accuracy);
    const double k = double(result.fold_accuracy.size());
    double sum = 0;
    for (double a : result.fold_accuracy) sum += a;
    result.mean_accuracy = sum / k;
    double sq = 0;
    for (double a : result.fold_accuracy) sq += (a - result.mean_accuracy) * (a - result.mean_accuracy);
    result.stddev_accuracy = std::sqrt(sq / (k - 1));
    return result;
}

int fold_of(const std::string& relative_path, int k, std::uint64_t seed) {
    const std::uint64_t hash = split_hash(relative_path);
    if (seed == 0) return int((hash / 1'000'000u) % std::uint64_t(k));
    return int(mix(hash + seed * 0x9e3779b97f4a7c15ull) % std::uint64_t(k));
}

void check_folds(const std::vector<std::string>& relative_paths, int k, std::uint64_t seed) {
    if (k < 2) throw Error("cross-validation needs at least 2 folds (got " + std::to_string(k) + ")");
    std::vector<std::size_t> fold_size(std::size_t(k), 0);
    for (const std::string& path : relative_paths) ++fold_size[std::size_t(fold_of(path, k, seed))];
    for (int f = 0; f < k; ++f)
        if (fold_size[std::size_t(f)] == 0 || fold_size[std::size_t(f)] == relative_paths.size())
            throw Error("--cross-validate " + std::to_string(k) + " leaves fold " + std::to_string(f + 1) + " of " +
                        std::to_string(relative_paths.size()) + " images empty; use fewer folds or more images");
}

CrossValidationResult cross_validate(const FeatureSet& data, const FeatureSet& mirrored,
                                     const std::vector<std::string>& relative_paths, int n_classes,
                                     const FoldOptions& folds, const TrainOptions& options) {
    const int k = folds.k;
    check_folds(relative_paths, k, folds.seed);
    if (relative_paths.size() != data.size())
        throw Error("cross-validation got " + std::to_string(relative_paths.size()) + " paths for " +
                    std::to_string(data.size()) + " feature rows");
    const bool use_mirrors = folds.train_on_mirrored || folds.test_time_flip;
    if (use_mirrors && (mirrored.labels != data.labels || mirrored.feature_size != data.feature_size))
        throw Error("cross-validation with mirrors needs a mirrored row for every row");
    std::vector<int> fold(data.size());
    for (std::size_t i = 0; i < data.size(); ++i) fold[i] = fold_of(relative_paths[i], k, folds.seed);
    CrossValidationResult result;
    for (int f = 0; f < k; ++f) {
        FeatureSet train, held_out, held_out_mirrored;
        train.feature_size = held_out.feature_size = held_out_mirrored.feature_size = data.feature_size;
        for (std::size_t i = 0; i < data.size(); ++i) {
            append_row(fold[i] == f ? held_out : train, data, i);
            if (fold[i] == f && folds.test_time_flip) append_row(held_out_mirrored, mirrored, i);
        }
        if (folds.train_on_mirrored)
            for (std::size_t i = 0; i < data.size(); ++i)
                if (fold[i] != f) append_row(train, mirrored, i);
        if (options.standardize) {
            const FeatureStandardization s = fit_standardization(train.features.data(), train.size(), train.feature_size);
            for (FeatureSet* set : {&train, &held_out, &held_out_mirrored}) s.apply(set->features.data(), set->size());
        }
        FeatureSet no_validation;
        no_validation.feature_size = data.feature_size;
        const SoftmaxLayer layer = train_softmax_layer(train, no_validation, n_classes, options);
        result.fold_accuracy.push_back(
            evaluate(layer, held_out, folds.test_time_flip ? &held_out_mirrored : nullptr).accuracy);
    }
    return summarise_folds(std::move(result.fold_accuracy));
}

CrossValidationResult cross_validate(const FeatureSet& data, const std::vector<std::string>& relative_paths,
                                     int n_classes, int k, const TrainOptions& options) {
    FoldOptions folds;
    folds.k = k;
    return cross_validate(data, FeatureSet{}, relative_paths, n_classes, folds, options);
}

}  // namespace tinception
