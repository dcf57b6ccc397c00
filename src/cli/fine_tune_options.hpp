// train's fine-tuning options (--fine-tune-from and its settings), checked into RetrainOptions.
#pragma once
#include <cxxopts.hpp>

#include "train/retrain.hpp"

namespace tinception::cli {

void add_fine_tune_options(cxxopts::Options& options);
// Throws Error naming the option for a value out of range, or settings without --fine-tune-from.
void apply_fine_tune_options(const cxxopts::ParseResult& args, RetrainOptions& o);

}  // namespace tinception::cli
