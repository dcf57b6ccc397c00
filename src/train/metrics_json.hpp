// train --metrics-json: every evaluation of a run (step as the console counts it, training
// and validation accuracy and cross-entropy) and the final test result, as JSON for plots
// and scripts. No times, so the same run writes the same file.
#pragma once
#include <string>

namespace tinception {

struct RetrainResult;

// {"evaluations": [{"step": 10, "train_accuracy": 0.9, "train_cross_entropy": 0.31,
//   "validation_accuracy": 0.85, "validation_cross_entropy": 0.4}, ...],
//  "test": {"images": 56, "accuracy": 0.964, "cross_entropy": 0.12},
//  "cross_validation": {"folds": 5, "mean_accuracy": 0.97, "stddev_accuracy": 0.016}}
// "test" is null without a test split, "cross_validation" null when not asked for.
std::string metrics_json(const RetrainResult& result);

}  // namespace tinception
