#include "cli/decode_option.hpp"

namespace tinception::cli {

void add_decode_option(cxxopts::Options& options) {
    options.add_options()
        ("exact-decode", "decode JPEGs at full size, not shrunk in the DCT to the input size: the reference "
                         "features, several times slower on large photos");
}

DecodeMode decode_mode_option(const cxxopts::ParseResult& args) {
    return args.count("exact-decode") ? DecodeMode::exact : DecodeMode::scaled;
}

}  // namespace tinception::cli
