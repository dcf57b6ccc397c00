// --precision fp32|int8 and int8's calibration options, for the commands that extract features.
#pragma once
#include <cxxopts.hpp>

namespace tinception {
class FeatureExtractor;
}

namespace tinception::cli {

void add_precision_options(cxxopts::Options& options);

// Refuses, before any work, an unknown precision, int8 without --calibrate, or a bad rule or
// image count; returns true for int8.
bool check_precision_option(const cxxopts::ParseResult& args);

// Switches `extractor` to int8 when --precision int8 asks, calibrated on --calibrate's images
// (a progress line on stderr). Refuses an unknown precision, or int8 without --calibrate.
void apply_precision_option(const cxxopts::ParseResult& args, FeatureExtractor& extractor);

// The precisions this CPU runs natively and with which kernels, for info and bench.
std::string native_precisions();

}  // namespace tinception::cli
