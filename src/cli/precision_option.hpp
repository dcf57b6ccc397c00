// --precision fp32|int8 and int8's calibration options, for the commands that extract features.
#pragma once
#include <cxxopts.hpp>

#include "quant/calibration_set.hpp"

namespace tinception {
class FeatureExtractor;
struct ClassifierModel;
struct PackedCacheChoice;
}

namespace tinception::cli {

void add_precision_options(cxxopts::Options& options);

// Refuses, before any work, an unknown precision, int8 without --calibrate (when
// `folder_required`; train calibrates on its training images otherwise), or a bad rule or
// image count.
CalibrationOptions calibration_options(const cxxopts::ParseResult& args, bool folder_required = true);
// The same check; true for int8.
bool check_precision_option(const cxxopts::ParseResult& args);

// Switches `extractor` to int8 when --precision int8 asks, calibrated on --calibrate's images
// (a progress line on stderr), to bf16 (its weights packed in memory, or through the
// packed-weights cache as `cache` says), or to fp32 when --precision fp32 is given (over a
// model's own precision). Refuses an unknown precision, or int8 without --calibrate.
void apply_precision_option(const cxxopts::ParseResult& args, FeatureExtractor& extractor,
                            const PackedCacheChoice* cache = nullptr);

// A warning on stderr when `model` was trained on bf16 features but `extractor` runs fp32
// without --precision asking for it: a CPU without AVX-512 BF16, so the scores are close to
// the model's own, not equal.
void warn_if_bf16_model_runs_fp32(const cxxopts::ParseResult& args, const ClassifierModel& model,
                                  const FeatureExtractor& extractor);

// The precisions this CPU runs natively and with which kernels, for info and bench.
std::string native_precisions();

}  // namespace tinception::cli
