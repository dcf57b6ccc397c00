// The precision options: int8 calibration from a folder of images, ranges by the chosen rule.
#include "cli/precision_option.hpp"

#include <iostream>

#include "error.hpp"
#include "int8/int8_kernel_table.hpp"
#include "kernel_dispatch.hpp"
#include "model/feature_extractor.hpp"
#include "model/network.hpp"
#include "quant/calibration_set.hpp"

namespace tinception::cli {

void add_precision_options(cxxopts::Options& options) {
    options.add_options()
        ("precision", "arithmetic of the network: fp32, or int8 (u8 activations, s8 weights; needs --calibrate)",
         cxxopts::value<std::string>()->default_value("fp32"))
        ("calibrate", "int8: folder of images (class folders and all) whose fp32 activations set each layer's "
                      "u8 range; up to --calibrate-images of them, spread over the sorted list",
         cxxopts::value<std::string>())
        ("calibrate-images", "int8: most calibration images used", cxxopts::value<int>()->default_value("64"))
        ("calibrate-rule", "int8: a layer's range is its largest output ('max') or a percentile of its positive "
                           "outputs ('p99.999')",
         cxxopts::value<std::string>()->default_value("p99.999"));
}

bool check_precision_option(const cxxopts::ParseResult& args) {
    const std::string precision = args["precision"].as<std::string>();
    if (precision == "fp32") return false;
    if (precision != "int8") throw Error("--precision takes fp32 or int8, not '" + precision + "'");
    if (!args.count("calibrate"))
        throw Error("--precision int8 needs --calibrate FOLDER: images that set the activations' ranges");
    parse_range_rule(args["calibrate-rule"].as<std::string>());
    if (args["calibrate-images"].as<int>() < 1) throw Error("--calibrate-images takes a positive number");
    return true;
}

void apply_precision_option(const cxxopts::ParseResult& args, FeatureExtractor& extractor) {
    if (!check_precision_option(args)) return;
    const RangeRule rule = parse_range_rule(args["calibrate-rule"].as<std::string>());
    const int most = args["calibrate-images"].as<int>();
    const std::string dir = args["calibrate"].as<std::string>();
    const CalibrationSet set = load_calibration_set(dir, extractor.preprocessing(), most);
    std::cerr << "int8: calibrating on " << set.paths.size() << " images from " << dir << "\n";
    extractor.use_int8(calibrate_ranges(extractor.weights(), extractor.network().output_layer(), set.input.data(),
                                        int(set.paths.size()), rule));
}

std::string native_precisions() {
    const kernels::Int8KernelTable& int8 = active_int8_kernels();
    return std::string("fp32 (") + active_kernels().isa_name + "), int8 (" + int8.isa_name +
           (int8.isa_name == std::string("avx2") ? ": vpmaddwd on values widened to 16 bits" : ": scalar, slow") +
           "); bf16 and int8 VNNI kernels are not built";
}

}  // namespace tinception::cli
