// Bottleneck features for a list of image files, through the cache: hits are read back,
// misses are decoded and computed in batches and stored. A file that cannot be read or
// decoded is reported, not thrown, so one bad image never stops a whole run.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "image/image.hpp"

namespace tinception {

class BottleneckCache;
class FeatureExtractor;

struct BottleneckBatch {
    int feature_size = 0;
    std::vector<float> features;      // [paths.size()][feature_size]; rows of failed files are 0
    std::vector<std::string> errors;  // per path: empty when the row is valid
    std::size_t computed = 0;         // rows computed by the network
    std::size_t from_cache = 0;       // rows read back from the cache
    std::vector<std::size_t> missing; // cached_only: rows that decode but are not in the cache
};

// compute_misses: the network computes (and the cache stores) what the cache lacks.
// cached_only: nothing is computed; a miss whose file decodes is listed in `missing` (and
// has an error), one that does not is an ordinary failed row.
enum class BottleneckMode { compute_misses, cached_only };

// `cache` may be null (no caching). `progress` is called with the number of files done.
// Images are decoded under `decode` (decode_limits); cache entries are keyed on the variant.
// `mirrored`: the features of each image mirrored left-right (deterministic, so cached too,
// under a variant of their own).
BottleneckBatch compute_bottlenecks(FeatureExtractor& extractor, const BottleneckCache* cache,
                                    const std::vector<std::string>& paths,
                                    const std::function<void(std::size_t done)>& progress = {},
                                    BottleneckMode mode = BottleneckMode::compute_misses,
                                    const ImageLimits& decode = {}, bool mirrored = false);

// The cache key's decode variant for the mirror of an image decoded as `variant` says.
std::string mirrored_variant(const std::string& variant);
// What the extractor's precision adds to the key's variant: "" in fp32, "bf16-" and the bf16
// layer plan's version in bf16, "int8-", the int8 network's version and a hash of its
// activation ranges in int8, so features of other arithmetic never share an entry.
std::string precision_variant(const FeatureExtractor& extractor);

}  // namespace tinception
