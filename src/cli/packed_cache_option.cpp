#include "cli/packed_cache_option.hpp"

namespace tinception::cli {

void add_packed_cache_option(cxxopts::Options& options) {
    options.add_options()("no-cache",
                          "pack the weights in memory instead of using the packed-weights cache "
                          "(~/.cache/tinception/packed)");
}

PackedCacheChoice packed_cache_option(const cxxopts::ParseResult& args) {
    return PackedCacheChoice{args.count("no-cache") == 0, {}};
}

}  // namespace tinception::cli
