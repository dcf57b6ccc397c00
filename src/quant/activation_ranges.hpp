// Calibration: the fp32 value each layer's output maps to u8 255, measured by running the fp32
// network over a set of preprocessed images. Deterministic: the same images in the same order
// give the same ranges. Three rules: the largest value seen (nothing clips on the set); a
// percentile of the positive values (a few outliers clip, the rest get finer steps); or the
// range with the least expected squared error over the positive values, clipping plus
// rounding, read from their histogram ("mse").
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tinception {

class PackedWeights;
class WeightFile;
struct NetworkPlan;

struct RangeRule {
    enum class Kind { max, percentile, mse } kind = Kind::max;
    double percentile = 99.99;  // Kind::percentile: of each layer's positive outputs
};

// Layer name -> range (> 0) for every layer up to `output_layer` that takes one of its own.
using ActivationRanges = std::map<std::string, float>;

// Whether int8 quantizes step `step`'s output with a range of its own: a pooling keeps its
// input's scale, and a step writing into a concat's slice takes the concat's.
bool takes_own_range(const NetworkPlan& plan, int step);

// `input`: NHWC [n][size][size][3] preprocessed as the network expects, run in batches
// through an fp32 network with weights packed in memory.
ActivationRanges calibrate_ranges(const WeightFile& weights, const std::string& output_layer, const float* input,
                                  int n, const RangeRule& rule);
// The same through an fp32 network on `packed` (a cache's, or shared with an extractor).
ActivationRanges calibrate_ranges(std::shared_ptr<const PackedWeights> packed, const std::string& output_layer,
                                  const float* input, int n, const RangeRule& rule);

// The range `rule` takes from a layer's positive outputs: their histogram over the bins of
// log2_bin (kernels/int8/log2_bins.hpp), their count and the largest.
float range_from_histogram(const std::vector<std::uint64_t>& bins, std::uint64_t positives, float max,
                           const RangeRule& rule);

// "max", "mse" or "p99.99" -> a rule; throws Error with one line otherwise.
RangeRule parse_range_rule(const std::string& text);
// The rule as parse_range_rule reads it ("p99.999" with the shortest digits).
std::string range_rule_text(const RangeRule& rule);

}  // namespace tinception
