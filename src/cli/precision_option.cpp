// The precision options: int8 calibration from a folder of images, ranges by the chosen rule.
#include "cli/precision_option.hpp"

#include <iostream>

#include "error.hpp"
#include "bf16/conv2d_bf16.hpp"
#include "int8/int8_kernel_table.hpp"
#include "kernel_dispatch.hpp"
#include "classify/classifier_model.hpp"
#include "model/feature_extractor.hpp"
#include "model/packed_weights.hpp"
#include "model/network.hpp"
#include "quant/calibration_set.hpp"

namespace tinception::cli {

void add_precision_options(cxxopts::Options& options) {
    options.add_options()
        ("precision", "arithmetic of the network: fp32; bf16 (convolutions on bf16 inputs and weights, fp32 sums, "
                      "the RGB stem in fp32; CPUs with AVX-512 BF16); or int8 "
                      "(u8 activations, s8 weights; needs "
                      "--calibrate, except in train and for a model trained in int8; default: fp32, or the model's)",
         cxxopts::value<std::string>()->default_value("fp32"))
        ("calibrate", "int8: folder of images (class folders and all) whose fp32 activations set each layer's "
                      "u8 range; up to --calibrate-images of them, spread over the sorted list (train: default "
                      "its training images)",
         cxxopts::value<std::string>())
        ("calibrate-images", "int8: most calibration images used", cxxopts::value<int>()->default_value("64"))
        ("calibrate-rule", "int8: a layer's range is its largest output ('max'), a percentile of its positive "
                           "outputs ('p99.999'), or the range with the least squared error, clipping and "
                           "rounding ('mse')",
         cxxopts::value<std::string>()->default_value("p99.999"));
}

CalibrationOptions calibration_options(const cxxopts::ParseResult& args, bool folder_required) {
    CalibrationOptions c;
    const std::string precision = args["precision"].as<std::string>();
    if (precision == "fp32") return c;
    if (precision == "bf16") {
        c.bf16 = true;
        return c;
    }
    if (precision != "int8") throw Error("--precision takes fp32, bf16 or int8, not '" + precision + "'");
    c.int8 = true;
    if (args.count("calibrate")) c.folder = args["calibrate"].as<std::string>();
    else if (folder_required)
        throw Error("--precision int8 needs --calibrate FOLDER: images that set the activations' ranges");
    c.rule = parse_range_rule(args["calibrate-rule"].as<std::string>());
    c.max_images = args["calibrate-images"].as<int>();
    if (c.max_images < 1) throw Error("--calibrate-images takes a positive number");
    return c;
}

bool check_precision_option(const cxxopts::ParseResult& args) { return calibration_options(args).int8; }

void apply_precision_option(const cxxopts::ParseResult& args, FeatureExtractor& extractor,
                            const PackedCacheChoice* cache) {
    const CalibrationOptions c = calibration_options(args);
    if (c.bf16) {
        if (std::string(extractor.precision()) == "bf16") return;  // a bf16 model's own
        extractor.use_bf16(cache ? *cache : PackedCacheChoice{false, {}});
        return;
    }
    if (!c.int8) {
        if (args.count("precision")) extractor.use_fp32();
        return;
    }
    const CalibrationSet set = load_calibration_set(c.folder, extractor.preprocessing(), c.max_images);
    std::cerr << "int8: calibrating on " << set.paths.size() << " images from " << c.folder << "\n";
    extractor.use_int8(calibrate_ranges(extractor.weights(), extractor.network_end(), set.input.data(),
                                        int(set.paths.size()), c.rule),
                       cache ? *cache : PackedCacheChoice{false, {}});
}

void warn_if_bf16_model_runs_fp32(const cxxopts::ParseResult& args, const ClassifierModel& model,
                                  const FeatureExtractor& extractor) {
    if (model.bf16_features && !args.count("precision") && std::string(extractor.precision()) != "bf16")
        std::cerr << "tinception: warning: the model was trained on bf16 features and this CPU lacks AVX-512 "
                     "BF16; running fp32 (scores close to the model's own, not equal)\n";
}

std::string native_precisions() {
    const kernels::Int8KernelTable& int8 = active_int8_kernels();
    const std::string isa = int8.isa_name;
    const char* how = isa == "avx512_vnni" ? ": vpdpbusd, 8-bit products summed in int32"
                      : isa == "avx2"      ? ": vpmaddwd on values widened to 16 bits"
                                           : ": scalar, slow";
    const std::string bf16 = kernels::avx512_bf16_kernels() ? "bf16 (avx512_bf16: vdpbf16ps)"
                             : kernels::avx512_kernels()     ? "bf16 not on this CPU (no AVX-512 BF16)"
                                                             : "bf16 not on this CPU (no AVX-512)";
    return "fp32 (" + std::string(active_kernels().isa_name) + "), int8 (" + isa + how + "), " + bf16;
}

}  // namespace tinception::cli
