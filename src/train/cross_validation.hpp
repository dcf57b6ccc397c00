// k-fold cross-validation of the softmax head on already-computed features. Folds come
// from the same path hash as the dataset split, so they are stable as images are added.
#pragma once
#include <string>
#include <vector>

#include "train/final_layer.hpp"

namespace tinception {

struct CrossValidationResult {
    std::vector<double> fold_accuracy;  // per fold, on that fold held out
    double mean_accuracy = 0;
    double stddev_accuracy = 0;  // sample standard deviation (divides by k - 1)
};

// split_hash(relative_path) / 1'000'000 % k: independent of the decimal digits that
// split_percentage uses, so folds cut across the training/validation/testing split.
int fold_of(const std::string& relative_path, int k);

// Trains k heads, each on all rows outside one fold (no validation set), and tests it on
// that fold. relative_paths[i] names row i of `data`. Throws Error when k < 2, the sizes
// disagree, or a fold comes out empty.
// Throws Error when k folds over these paths would leave a fold empty ("--cross-validate K
// leaves fold F empty; use fewer folds or more images"), so a bad K is refused before training.
void check_folds(const std::vector<std::string>& relative_paths, int k);

CrossValidationResult cross_validate(const FeatureSet& data, const std::vector<std::string>& relative_paths,
                                     int n_classes, int k, const TrainOptions& options);

}  // namespace tinception
