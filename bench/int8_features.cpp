// int8 against fp32 features on a folder of class folders (the superheroes set): calibrates on
// every k-th image (sorted by path), then reports per layer the minimum and mean cosine
// similarity and the largest relative error |int8 - fp32| / |fp32| over all images, and over
// the images left out of calibration, and the image where each minimum is. One-shot figures
// for README's int8 section.
//   int8_features WEIGHTS DIR [RULE=max|mse|pNN.NN] [EVERY=4] [TABLE=avx2|avx2_7bit|avx512_vnni|reference]
//                 [SHARE=all|weights|activations] [LAYERS=mixed5,mixed10]
// SHARE splits the error: `weights` runs fp32 on the weights rounded as int8 rounds them
// (each value replaced by q * weight_scale) against fp32; `activations` runs int8 against that
// same fp32 network, whose weights are then exactly int8's. Both need an 8-bit weight file,
// whose values are expanded into memory this tool may overwrite.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "../tests/feature_similarity.hpp"
#include "folder_images.hpp"
#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/feature_extractor.hpp"
#include "model/network.hpp"
#include "quant/int8_network.hpp"
#include "quant/int8_weights.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;

namespace {

// Every conv2d weight of `weights` replaced by the value int8 computes with: q * weight_scale.
void round_weights_as_int8(const WeightFile& weights, int max_level) {
    if (!weights.expands_at_load())
        throw Error(weights.path() + ": rounding the weights in place needs an 8-bit weight file");
    weights.make_values_readable();
    for (const Layer& l : weights.graph().layers()) {
        if (l.op != LayerOp::conv2d) continue;
        const int in_c = int(l.weights->dims[1]);
        const std::vector<float> values = int8_weight_values(quantize_conv_weights(l, in_c, max_level), l, in_c);
        auto* w = const_cast<float*>(l.weights->data);  // the 8-bit file's expanded copy
        std::copy(values.begin(), values.end(), w);
    }
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 3) {
        std::fprintf(stderr, "usage: int8_features WEIGHTS DIR [max|mse|pNN.NN] [EVERY] [avx2|avx2_7bit|avx512_vnni|reference]"
                             " [all|weights|activations] [LAYER,...]\n");
        return 2;
    }
    const RangeRule rule = parse_range_rule(argc > 3 ? argv[3] : "max");
    const int every = argc > 4 ? std::atoi(argv[4]) : 4;
    const std::string isa = argc > 5 ? argv[5] : "avx2";
    const kernels::Int8KernelTable* table = isa == "reference" ? &kernels::reference_int8_kernels()
                                            : isa == "avx2_7bit"   ? kernels::avx2_7bit_int8_kernels()
                                            : isa == "avx512_vnni" ? kernels::avx512_vnni_int8_kernels()
                                                                   : kernels::avx2_int8_kernels();
    if (!table) throw Error("no " + isa + " int8 table on this CPU");
    const std::string share = argc > 6 ? argv[6] : "all";
    if (share != "all" && share != "weights" && share != "activations")
        throw Error("SHARE '" + share + "' is not all, weights or activations");
    const std::vector<std::string> layers = bench::split_commas(argc > 7 ? argv[7] : "mixed5,mixed10");
    const WeightFile weights = WeightFile::open(argv[1]);
    const bench::FolderImages folder = bench::load_folder_images(argv[2], preprocessing_of(weights), every);
    const std::vector<std::string>& paths = folder.paths;
    const std::vector<float>& input = folder.input;
    const std::size_t image_floats = folder.image_floats;
    const int n = folder.count(), calibrated = folder.calibration_count();
    const std::string& output = layers.back();
    const ActivationRanges ranges = calibrate_ranges(weights, output, folder.calibration.data(), calibrated, rule);
    Network fp32(weights, output, active_kernels());
    fp32.pool_layers(layers);
    Int8Network int8(weights, output, ranges, *table);
    int8.pool_layers(layers);
    // The reference and the compared network, as SHARE says.
    const WeightFile rounded = WeightFile::open(argv[1]);
    std::unique_ptr<Network> rounded_fp32;
    if (share != "all") {
        round_weights_as_int8(rounded, table->weight_max);
        rounded_fp32 = std::make_unique<Network>(rounded, output, active_kernels());
        rounded_fp32->pool_layers(layers);
    }
    Network& reference = share == "activations" ? *rounded_fp32 : fp32;
    const int size = fp32.feature_size();
    std::vector<float> expected(std::size_t(n) * size), actual(std::size_t(n) * size);
    for (int b = 0; b < n; b += 8) {
        const int count = std::min(8, n - b);
        const float* images = input.data() + std::size_t(b) * image_floats;
        reference.extract_features(images, count, expected.data() + std::size_t(b) * size);
        if (share == "weights")
            rounded_fp32->extract_features(images, count, actual.data() + std::size_t(b) * size);
        else
            int8.extract_features(images, count, actual.data() + std::size_t(b) * size);
    }
    std::printf("%d images (%d calibrate, rule %s), weights |q| <= %d, %s int8 table, %s\n", n, calibrated,
                argc > 3 ? argv[3] : "max", table->weight_max, table->isa_name,
                share == "weights"       ? "fp32 on int8's rounded weights against fp32"
                : share == "activations" ? "int8 against fp32 on int8's rounded weights"
                                         : "int8 against fp32");
    int offset = 0;
    for (const std::string& layer : layers) {
        const int c = weights.graph().layers()[std::size_t(weights.graph().index_of(layer))].shape.c;
        for (const bool held_out : {false, true}) {
            double min_cos = 1.0, sum_cos = 0.0, max_rel = 0.0;
            int counted = 0, worst = 0;
            for (int i = 0; i < n; ++i) {
                if (held_out && i % every == 0) continue;
                const float* e = expected.data() + std::size_t(i) * size + offset;
                const float* a = actual.data() + std::size_t(i) * size + offset;
                const double cos = testing::cosine(e, a, std::size_t(c));
                double diff = 0.0, norm = 0.0;
                for (int k = 0; k < c; ++k) diff += double(a[k] - e[k]) * (a[k] - e[k]), norm += double(e[k]) * e[k];
                if (cos < min_cos) min_cos = cos, worst = i;
                sum_cos += cos;
                max_rel = std::max(max_rel, std::sqrt(diff / norm));
                ++counted;
            }
            std::printf("%-8s %-22s cosine min %.6f mean %.6f, relative error max %.5f; min at %s\n", layer.c_str(),
                        held_out ? "(not calibrated on)" : "(all images)", min_cos, sum_cos / counted, max_rel,
                        std::filesystem::relative(paths[std::size_t(worst)], argv[2]).c_str());
        }
        offset += c;
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "int8_features: error: %s\n", e.what());
    return 1;
}
