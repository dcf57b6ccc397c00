// k-fold cross-validation of the softmax head on already-computed features. Folds come
// from the same path hash as the dataset split, so they are stable as images are added.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/final_layer.hpp"

namespace tinception {

struct CrossValidationResult {
    std::vector<double> fold_accuracy;  // per fold, on that fold held out
    double mean_accuracy = 0;
    double stddev_accuracy = 0;  // sample standard deviation (divides by k - 1)
};

struct FoldOptions {
    int k = 5;
    // 0: split_hash(path) / 1'000'000 % k, independent of the decimal digits split_percentage
    // uses, so folds cut across the training/validation/testing split. Another seed mixes the
    // hash first, giving another partition as stable as the first.
    std::uint64_t seed = 0;
    bool train_on_mirrored = false;  // each fold's training rows are joined by their mirrors
    bool test_time_flip = false;     // held-out rows are scored with their mirrors (evaluate)
};

// The result of per-fold accuracies: their mean and sample standard deviation (k >= 2).
CrossValidationResult summarise_folds(std::vector<double> fold_accuracy);

int fold_of(const std::string& relative_path, int k, std::uint64_t seed = 0);

// Throws Error when k folds over these paths would leave a fold empty ("--cross-validate K
// leaves fold F empty; use fewer folds or more images"), so a bad K is refused before training.
void check_folds(const std::vector<std::string>& relative_paths, int k, std::uint64_t seed = 0);

// Trains k heads, each on all rows outside one fold (no validation set, so the last weights),
// standardised by that fold's training rows when options.standardize, and tests it on that
// fold. relative_paths[i] names row i of `data`; `mirrored` holds the rows' mirrors (may be
// empty unless the fold options use them). Throws Error when k < 2, the sizes disagree, or a
// fold comes out empty.
CrossValidationResult cross_validate(const FeatureSet& data, const FeatureSet& mirrored,
                                     const std::vector<std::string>& relative_paths, int n_classes,
                                     const FoldOptions& folds, const TrainOptions& options);
// Without mirrors, fold seed 0.
CrossValidationResult cross_validate(const FeatureSet& data, const std::vector<std::string>& relative_paths,
                                     int n_classes, int k, const TrainOptions& options);

}  // namespace tinception
