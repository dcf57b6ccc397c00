// The options that decide which bottleneck features a command computes or reads, shared by
// train and bottlenecks so a job array and its training job agree on them.
#pragma once
#include <cxxopts.hpp>
#include <string>

namespace tinception::cli {

// --weights FILE, --bottleneck LAYER, --bottleneck-dir DIR, --exact-decode (decode_option.hpp).
void add_feature_options(cxxopts::Options& options);

// The weight file as given (resolve_weights_path's search when --weights is absent).
std::string weights_path_option(const cxxopts::ParseResult& args);

// --bottleneck-dir, else default_bottleneck_dir().
std::string cache_dir_option(const cxxopts::ParseResult& args);

// --mirror / --no-mirror (both defined by the command): on unless --no-mirror, or as
// `by_default` says when neither is given; both at once are refused.
bool mirror_option(const cxxopts::ParseResult& args, bool by_default);

}  // namespace tinception::cli
