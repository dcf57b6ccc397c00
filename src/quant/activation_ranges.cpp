// Runs the fp32 network over the calibration images and keeps, per layer, the largest output
// and a histogram of the positive outputs on a log scale (64 bins an octave, so a percentile
// is read to within 1.1%), from which each rule takes the range.
#include "quant/activation_ranges.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "error.hpp"
#include "int8/log2_bins.hpp"
#include "kernel_dispatch.hpp"
#include "model/network.hpp"
#include "model/network_plan.hpp"
#include "model/packed_weights.hpp"
#include "parallel/thread_pool.hpp"
#include "weights/weight_file.hpp"

namespace tinception {
namespace {

using kernels::kBinsPerOctave;
using kernels::kLog2Bins;
using kernels::kLowestOctave;

constexpr int kBatch = 8;

struct LayerHistogram {
    std::vector<std::uint64_t> bins = std::vector<std::uint64_t>(std::size_t(kLog2Bins), 0);
    std::uint64_t positives = 0;
    float max = 0.0f;

    void merge(const LayerHistogram& o) {
        for (std::size_t b = 0; b < bins.size(); ++b) bins[b] += o.bins[b];
        positives += o.positives;
        max = std::max(max, o.max);
    }
    // Pixels [first, end) of a layer's output, `channels` floats each, `stride` apart.
    void add_pixels(const float* out, long first, long end, int channels, int stride) {
        positives += active_int8_kernels().log2_histogram(out + first * stride, end - first, channels, stride,
                                                          bins.data(), &max);
    }
};

// The upper edge of the bin holding the percentile, never above the largest value.
float percentile_range(const std::vector<std::uint64_t>& bins, std::uint64_t positives, float max, double p) {
    const auto target = std::uint64_t(std::ceil(p / 100.0 * double(positives)));
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < bins.size(); ++b) {
        seen += bins[b];
        if (seen >= target && seen > 0) return std::min(max, float(std::exp2(double(b + 1) / kBinsPerOctave + kLowestOctave)));
    }
    return max;
}

// The bin edge T minimizing, over the positive values v (each taken at its bin's geometric
// middle), the clipped values' (v - T)^2 plus the others' rounding noise (T / 255)^2 / 12;
// T never above the largest value.
float least_squared_error_range(const std::vector<std::uint64_t>& bins, std::uint64_t positives, float max) {
    double above0 = 0, above1 = 0, above2 = 0;  // over the bins above the candidate's: count, sum v, sum v^2
    double best_error = -1.0;
    float best = max;
    for (std::size_t b = bins.size(); b-- > 0;) {
        if (bins[b] == 0 && above0 == 0) continue;  // above every value: the range would be max
        const double edge = std::min(double(max), std::exp2(double(b + 1) / kBinsPerOctave + kLowestOctave));
        const double step = edge / 255.0;
        const double error = above2 - 2.0 * edge * above1 + edge * edge * above0 +
                             (double(positives) - above0) * step * step / 12.0;
        if (best_error < 0 || error < best_error) best_error = error, best = float(edge);
        const double n = double(bins[b]);
        const double v = std::min(double(max), std::exp2((double(b) + 0.5) / kBinsPerOctave + kLowestOctave));
        above0 += n, above1 += n * v, above2 += n * v * v;
    }
    return best;
}

}  // namespace

bool takes_own_range(const NetworkPlan& plan, int step) {
    const PlannedStep& s = plan.steps[std::size_t(step)];
    const bool pool = s.layer->op == LayerOp::maxpool2d || s.layer->op == LayerOp::avgpool2d;
    return step > 0 && s.owner == step && !pool;
}

float range_from_histogram(const std::vector<std::uint64_t>& bins, std::uint64_t positives, float max,
                           const RangeRule& rule) {
    switch (rule.kind) {
    case RangeRule::Kind::max: return max;
    case RangeRule::Kind::percentile: return percentile_range(bins, positives, max, rule.percentile);
    case RangeRule::Kind::mse: return least_squared_error_range(bins, positives, max);
    }
    return max;
}

ActivationRanges calibrate_ranges(const WeightFile& weights, const std::string& output_layer, const float* input,
                                  int n, const RangeRule& rule) {
    if (n <= 0) throw Error("int8 calibration needs at least one image");
    return calibrate_ranges(std::make_shared<const PackedWeights>(weights, active_kernels()), output_layer, input, n,
                            rule);
}

ActivationRanges calibrate_ranges(std::shared_ptr<const PackedWeights> packed, const std::string& output_layer,
                                  const float* input, int n, const RangeRule& rule) {
    if (n <= 0) throw Error("int8 calibration needs at least one image");
    Network network(std::move(packed), output_layer);
    // Only the layers whose range int8 uses are counted: the others are a third of the values.
    const NetworkPlan& plan = network.plan();
    std::map<std::string, LayerHistogram> histograms;
    for (int i = 0; i < int(plan.steps.size()); ++i)
        if (takes_own_range(plan, i)) histograms[plan.steps[std::size_t(i)].layer->name];
    // Each layer's outputs are counted on every thread, a histogram each, then added up: the
    // counts and the largest value are the same in any order.
    network.observe_steps([&](const Layer& layer, const float* out, int images, int pixel_stride) {
        const auto counted = histograms.find(layer.name);
        if (counted == histograms.end()) return;
        const long pixels = long(images) * layer.shape.h * layer.shape.w;
        const int tasks = int(std::min<long>(thread_count(), pixels));
        std::vector<LayerHistogram> parts(static_cast<std::size_t>(tasks));
        parallel_for(tasks, [&](int t) {
            parts[std::size_t(t)].add_pixels(out, pixels * t / tasks, pixels * (t + 1) / tasks, layer.shape.c,
                                             pixel_stride);
        });
        for (const LayerHistogram& part : parts) counted->second.merge(part);
    });
    const ActivationShape in = network.input_shape();
    const std::size_t image_floats = std::size_t(in.h) * std::size_t(in.w) * std::size_t(in.c);
    for (int b = 0; b < n; b += kBatch) 
        network.extract_features(input + std::size_t(b) * image_floats, std::min(kBatch, n - b), nullptr);
    ActivationRanges ranges;
    for (const auto& [name, h] : histograms) {
        const float range = range_from_histogram(h.bins, h.positives, h.max, rule);
        ranges[name] = range > 0.0f ? range : 1.0f;  // a layer that is zero on every image
    }
    return ranges;
}

std::string range_rule_text(const RangeRule& rule) {
    if (rule.kind == RangeRule::Kind::max) return "max";
    if (rule.kind == RangeRule::Kind::mse) return "mse";
    char text[32];
    std::snprintf(text, sizeof text, "p%g", rule.percentile);
    return text;
}

RangeRule parse_range_rule(const std::string& text) {
    RangeRule rule;
    if (text == "max") return rule;
    if (text == "mse") {
        rule.kind = RangeRule::Kind::mse;
        return rule;
    }
    if (text.size() > 1 && text[0] == 'p') {
        char* end = nullptr;
        const double p = std::strtod(text.c_str() + 1, &end);
        if (end && *end == '\0' && p > 0.0 && p <= 100.0) {
            rule.kind = RangeRule::Kind::percentile;
            rule.percentile = p;
            return rule;
        }
    }
    throw Error("calibration rule '" + text + "' is not 'max', 'mse' or a percentile such as 'p99.99'");
}

}  // namespace tinception
