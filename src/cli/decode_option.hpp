// The --exact-decode option of the commands that decode images for the network (train,
// bottlenecks, guess, guess-dir, embed, preprocess).
#pragma once
#include <cxxopts.hpp>

#include "image/preprocess.hpp"

namespace tinception::cli {

void add_decode_option(cxxopts::Options& options);

// DecodeMode::exact with --exact-decode, else DecodeMode::scaled.
DecodeMode decode_mode_option(const cxxopts::ParseResult& args);

}  // namespace tinception::cli
