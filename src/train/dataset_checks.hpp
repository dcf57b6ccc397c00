// Checks of a scanned data folder that decode nothing: byte-identical images, small and
// unbalanced categories. The scan calls the first; training adds the advice.
#pragma once
#include <string>
#include <vector>

#include "train/dataset.hpp"

namespace tinception {

// Images with the same bytes. Inside a category only the first by path is kept, each other
// copy is dropped from its split with one "skipped, byte-identical to" warning, so an image
// counts once and never sits in training and testing at once. Across categories each group
// is one warning, as one picture under two labels is ambiguous; those are kept. Only files
// whose size matches another's are read.
void drop_identical_images(Dataset& data);

// The fewest images per category below which a warning says the model may be unreliable
// (retrain.py warns below 20 too), and the size ratio of the largest category to the
// smallest from which the categories count as strongly unbalanced.
inline constexpr std::size_t kFewImagesPerCategory = 20;
inline constexpr double kUnbalancedRatio = 3.0;

// Warnings about a data set that trains but may train badly: categories under
// kFewImagesPerCategory images, and (when `class_weighting` is off) a largest category
// kUnbalancedRatio or more times the smallest, suggesting --class-weights.
std::vector<std::string> dataset_advice(const Dataset& data, bool class_weighting);

}  // namespace tinception
