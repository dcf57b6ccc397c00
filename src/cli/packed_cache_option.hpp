// The --no-cache option of the commands that classify with a model (guess, guess-dir): whether
// the packed weights come from the packed-weights cache file or are packed in memory.
#pragma once
#include <cxxopts.hpp>

#include "model/packed_weights.hpp"

namespace tinception::cli {

void add_packed_cache_option(cxxopts::Options& options);

// The default folder unless --no-cache.
PackedCacheChoice packed_cache_option(const cxxopts::ParseResult& args);

}  // namespace tinception::cli
