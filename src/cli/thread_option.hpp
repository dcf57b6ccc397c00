// The --threads option of the commands that run the network (train, guess, guess-dir, embed).
#pragma once
#include <cxxopts.hpp>

namespace tinception::cli {

void add_threads_option(cxxopts::Options& options);

// Sizes the thread pool from --threads: 0 keeps every core (or TINCEPTION_THREADS); a negative
// count is refused with an Error.
void apply_threads_option(const cxxopts::ParseResult& args);

}  // namespace tinception::cli
