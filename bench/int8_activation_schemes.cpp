// How close to fp32 could u8 activations get, scheme by scheme? Runs the fp32 network with
// every convolution's output rounded in place to 256 levels from 0 to a range, as int8 rounds
// them, and compares the pooled features with plain fp32 on a folder of class folders. The
// weights stay fp32, so the figures are the activations' share alone. Schemes, by where the
// range comes from:
//   tensor         one range per layer, a percentile of its positive outputs on the
//                  calibration images (what Int8Network does, before the concat's sharing);
//   channel        one range per output channel, the same percentile of that channel's;
//   image          one range per layer and image: the image's own largest output there;
//   image-channel  one range per channel and image, the same (an upper bound for any u8
//                  scheme with zero point 0: no value clips and every channel gets its own steps).
// The layers' own outputs enter the pooled features before they are rounded, as int8 keeps
// its output layer in float.
//   int8_activation_schemes WEIGHTS DIR SCHEME [PERCENTILE=99.999] [EVERY=4] [LAYERS=mixed5,mixed10]
//                           [ROUNDED=FROM:TO]
// Calibration takes every EVERY-th image of the sorted list. ROUNDED rounds only the
// convolutions after layer FROM up to layer TO in the network's order (either may be left
// empty: from the input, to the end), so each block's share of the error can be measured:
// ':max_pooling2d_2' is the stem, 'max_pooling2d_2:mixed0' the first block, 'max_pooling2d_2:'
// all but the stem.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../tests/feature_similarity.hpp"
#include "folder_images.hpp"
#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/feature_extractor.hpp"
#include "model/network.hpp"
#include "model/network_plan.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;

namespace {

// Positive values' histogram, 16 bins an octave from 2^-24: percentiles to within 4.4%. Not
// calibration's own (activation_ranges.cpp: 3072 bins of 64 bits, ~570 MB at one a channel
// over the trunk's 23,000 channels), so its percentile is read here the same way, coarser.
constexpr int kPerOctave = 16, kLowestOctave = -24, kBins = 40 * kPerOctave;

struct Histogram {
    std::vector<std::uint32_t> bins = std::vector<std::uint32_t>(kBins, 0);
    std::uint64_t positives = 0;
    float max = 0.0f;

    void add(float v) {
        if (!(v > 0.0f)) return;
        const int b = int(std::floor((std::log2(v) - kLowestOctave) * kPerOctave));
        ++bins[std::size_t(std::clamp(b, 0, kBins - 1))];
        ++positives;
        max = std::max(max, v);
    }
    // The upper edge of the bin holding the percentile, never above the largest value.
    float percentile(double p) const {
        if (positives == 0) return 1.0f;
        const auto target = std::uint64_t(std::ceil(p / 100.0 * double(positives)));
        std::uint64_t seen = 0;
        for (int b = 0; b < kBins; ++b) {
            seen += bins[std::size_t(b)];
            if (seen >= target && seen > 0)
                return std::min(max, float(std::exp2(double(b + 1) / kPerOctave + kLowestOctave)));
        }
        return max;
    }
};

float round_to_u8(float v, float range) {
    if (!(v > 0.0f) || !(range > 0.0f)) return 0.0f;
    return std::min(255.0f, std::nearbyint(v / range * 255.0f)) * (range / 255.0f);
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 4) {
        std::fprintf(stderr, "usage: int8_activation_schemes WEIGHTS DIR tensor|channel|image|image-channel"
                             " [PERCENTILE] [EVERY] [LAYER,...] [FROM:TO]\n");
        return 2;
    }
    const std::string scheme = argv[3];
    if (scheme != "tensor" && scheme != "channel" && scheme != "image" && scheme != "image-channel")
        throw Error("scheme '" + scheme + "' is not tensor, channel, image or image-channel");
    const double percentile = argc > 4 ? std::atof(argv[4]) : 99.999;
    const int every = argc > 5 ? std::atoi(argv[5]) : 4;
    if (!(percentile > 0.0 && percentile <= 100.0) || every < 1) throw Error("bad PERCENTILE or EVERY");
    const std::vector<std::string> layers = bench::split_commas(argc > 6 ? argv[6] : "mixed5,mixed10");
    const bool per_channel = scheme == "channel" || scheme == "image-channel";
    const bool per_image = scheme == "image" || scheme == "image-channel";
    const std::string rounded = argc > 7 ? argv[7] : ":";
    const std::size_t colon = rounded.find(':');
    if (colon == std::string::npos) throw Error("ROUNDED '" + rounded + "' is not FROM:TO");
    const std::string round_from = rounded.substr(0, colon), round_to = rounded.substr(colon + 1);

    const WeightFile weights = WeightFile::open(argv[1]);
    const bench::FolderImages images = bench::load_folder_images(argv[2], preprocessing_of(weights), every);
    const int n = images.count();
    const std::size_t image_floats = images.image_floats;

    Network network(weights, layers.back(), active_kernels());
    network.pool_layers(layers);
    // Every convolution is rounded but those writing the output layer, as in Int8Network.
    const NetworkPlan& plan = network.plan();
    const int last = int(plan.steps.size()) - 1;
    const auto step_named = [&](const std::string& name, int if_empty) {
        if (name.empty()) return if_empty;
        for (int i = 0; i <= last; ++i)
            if (plan.steps[std::size_t(i)].layer->name == name) return i;
        throw Error("layer '" + name + "' is not on the way to " + layers.back());
    };
    const int first_rounded = step_named(round_from, 0) + 1, last_rounded = step_named(round_to, last);
    std::map<std::string, std::vector<Histogram>> histograms;  // per rounded layer: one, or one a channel
    for (int i = first_rounded; i <= last_rounded; ++i) {
        const PlannedStep& s = plan.steps[std::size_t(i)];
        if (s.layer->op == LayerOp::conv2d && s.owner != last)
            histograms[s.layer->name].resize(std::size_t(per_channel ? s.layer->shape.c : 1));
    }
    std::map<std::string, std::vector<float>> ranges;
    if (!per_image) {
        network.observe_steps([&](const Layer& l, const float* out, int batch, int stride) {
            const auto h = histograms.find(l.name);
            if (h == histograms.end()) return;
            const long pixels = long(batch) * l.shape.h * l.shape.w;
            for (long px = 0; px < pixels; ++px)
                for (int c = 0; c < l.shape.c; ++c) h->second[std::size_t(per_channel ? c : 0)].add(out[px * stride + c]);
        });
        const int calibrated = images.calibration_count();
        for (int b = 0; b < calibrated; b += 8)
            network.extract_features(images.calibration.data() + std::size_t(b) * image_floats,
                                     std::min(8, calibrated - b), nullptr);
        for (const auto& [name, hs] : histograms)
            for (const Histogram& h : hs) ranges[name].push_back(h.percentile(percentile));
    }

    const int size = network.feature_size();
    std::vector<float> expected(std::size_t(n) * size), actual(std::size_t(n) * size);
    network.observe_steps({});
    for (int b = 0; b < n; b += 8)
        network.extract_features(images.input.data() + std::size_t(b) * image_floats, std::min(8, n - b),
                                 expected.data() + std::size_t(b) * size);
    // The observer rounds the layer's output where it lies, before the next wave reads it.
    network.observe_steps([&](const Layer& l, const float* output, int batch, int stride) {
        if (histograms.find(l.name) == histograms.end()) return;
        float* out = const_cast<float*>(output);
        const long image_pixels = long(l.shape.h) * l.shape.w;
        std::vector<float> image_range(per_channel ? std::size_t(l.shape.c) : 1);  // per_image's
        const std::vector<float>& range = per_image ? image_range : ranges.at(l.name);
        for (int img = 0; img < batch; ++img) {
            float* first = out + img * image_pixels * stride;
            if (per_image) {
                std::fill(image_range.begin(), image_range.end(), 0.0f);
                for (long px = 0; px < image_pixels; ++px)
                    for (int c = 0; c < l.shape.c; ++c) {
                        float& r = image_range[per_channel ? std::size_t(c) : 0];
                        r = std::max(r, first[px * stride + c]);
                    }
            }
            for (long px = 0; px < image_pixels; ++px)
                for (int c = 0; c < l.shape.c; ++c) {
                    float& v = first[px * stride + c];
                    v = round_to_u8(v, range[per_channel ? std::size_t(c) : 0]);
                }
        }
    });
    for (int b = 0; b < n; b += 8)
        network.extract_features(images.input.data() + std::size_t(b) * image_floats, std::min(8, n - b),
                                 actual.data() + std::size_t(b) * size);

    std::printf("%d images, scheme %s", n, scheme.c_str());
    if (!per_image) std::printf(" (p%g of %d calibration images)", percentile, images.calibration_count());
    std::printf(": u8 activations, fp32 weights, against fp32");
    if (rounded != ":") std::printf("; only the convolutions after %s up to %s rounded",
                                    round_from.empty() ? "the input" : round_from.c_str(),
                                    round_to.empty() ? "the end" : round_to.c_str());
    std::printf("\n");
    int offset = 0;
    for (const std::string& layer : layers) {
        const int c = weights.graph().layers()[std::size_t(weights.graph().index_of(layer))].shape.c;
        double min_cos = 1.0, sum_cos = 0.0;
        int worst = 0;
        for (int i = 0; i < n; ++i) {
            const double cos = testing::cosine(expected.data() + std::size_t(i) * size + offset,
                                               actual.data() + std::size_t(i) * size + offset, std::size_t(c));
            if (cos < min_cos) min_cos = cos, worst = i;
            sum_cos += cos;
        }
        std::printf("%-8s cosine min %.6f mean %.6f; min at %s\n", layer.c_str(), min_cos, sum_cos / n,
                    std::filesystem::relative(images.paths[std::size_t(worst)], argv[2]).c_str());
        offset += c;
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "int8_activation_schemes: error: %s\n", e.what());
    return 1;
}
