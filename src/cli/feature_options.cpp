#include "cli/feature_options.hpp"

#include "cli/cli_paths.hpp"
#include "cli/commands.hpp"
#include "cli/decode_option.hpp"
#include "error.hpp"

namespace tinception::cli {

void add_feature_options(cxxopts::Options& options) {
    options.add_options()
        ("weights", "Inception v3 weight file (default: $TINCEPTION_WEIGHTS, else weights/inception_v3.tcw)",
         cxxopts::value<std::string>())
        ("bottleneck", "layer whose pooled output feeds the new layer (mixed0..mixed10), or several side by side "
                       "(mixed5,mixed7), taken from one pass",
         cxxopts::value<std::string>()->default_value(kDefaultFeatureLayer))
        ("bottleneck-dir", "bottleneck cache folder (default: ~/.cache/tinception/bottlenecks)",
         cxxopts::value<std::string>());
    add_decode_option(options);
}

std::string weights_path_option(const cxxopts::ParseResult& args) {
    // As given: a model records a relative path relative to itself (weights_path_to_record).
    return resolve_weights_path(args.count("weights") ? args["weights"].as<std::string>() : "");
}

std::string cache_dir_option(const cxxopts::ParseResult& args) {
    const std::string given = args.count("bottleneck-dir") ? args["bottleneck-dir"].as<std::string>() : "";
    return given.empty() ? default_bottleneck_dir() : given;
}

bool mirror_option(const cxxopts::ParseResult& args, bool by_default) {
    if (args.count("mirror") && args.count("no-mirror")) throw Error("--mirror and --no-mirror exclude each other");
    if (args.count("mirror")) return true;
    return !args.count("no-mirror") && by_default;
}

}  // namespace tinception::cli
