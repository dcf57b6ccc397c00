// Calibration: the fp32 value each layer's output maps to u8 255, measured by running the fp32
// network over a set of preprocessed images. Deterministic: the same images in the same order
// give the same ranges. Two rules: the largest value seen (nothing clips on the set), or a
// percentile of the positive values (a few outliers clip, the rest get finer steps).
#pragma once
#include <map>
#include <string>

namespace tinception {

class WeightFile;

struct RangeRule {
    enum class Kind { max, percentile } kind = Kind::max;
    double percentile = 99.99;  // Kind::percentile: of each layer's positive outputs
};

// Layer name -> range (> 0) for every layer up to `output_layer`.
using ActivationRanges = std::map<std::string, float>;

// `input`: NHWC [n][size][size][3] preprocessed as the network expects, run in batches.
ActivationRanges calibrate_ranges(const WeightFile& weights, const std::string& output_layer, const float* input,
                                  int n, const RangeRule& rule);

// "max" or "p99.99" -> a rule; throws Error with one line otherwise.
RangeRule parse_range_rule(const std::string& text);

}  // namespace tinception
