// The bottleneck features of a split data folder, loaded straight into one contiguous matrix
// per split (training, validation, testing): rows of images that failed are squeezed out in
// place, so memory is the feature bytes plus a few dozen bytes of bookkeeping per image.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "train/bottlenecks.hpp"
#include "train/dataset.hpp"
#include "train/final_layer.hpp"

namespace tinception {

class BottleneckCache;
class FeatureExtractor;

struct SplitFeatureRows {
    FeatureSet set;                           // labels are category indices of the Dataset
    std::vector<std::string> relative_paths;  // parallel to the rows
    FeatureSet mirrored;                      // each row's image mirrored left-right; empty unless asked
};

struct SplitFeatures {
    SplitFeatureRows training, validation, testing;  // rows in category, then name order
    std::size_t computed = 0, from_cache = 0, skipped = 0;
};

struct SplitFeatureEvents {
    std::function<void(const std::string&)> warning;  // a skipped or missing image
    std::function<void(std::size_t total)> started;
    std::function<void(std::size_t done)> progress;
};

// With BottleneckMode::cached_only, every image missing from the cache is reported through
// events.warning and then an Error lists how many (and the first few); nothing is computed.
// Images are decoded under `decode`, as compute_bottlenecks says. `with_mirrored` also fills
// each split's `mirrored` rows (through the cache as well).
SplitFeatures load_split_features(FeatureExtractor& extractor, const BottleneckCache* cache, const Dataset& data,
                                  BottleneckMode mode, const SplitFeatureEvents& events = {},
                                  const ImageLimits& decode = {}, bool with_mirrored = false);

// The rows of all three splits in category, then split, then name order: the order
// cross-validation folds are made in, with their mirrored rows when the splits have them.
// A copy; only built when asked for.
SplitFeatureRows all_split_rows(const SplitFeatures& features, std::size_t n_categories);

}  // namespace tinception
