// What the HTML report of a retraining run shows, and what the model records of it: the
// run's settings and results gathered from its options and result.
#pragma once
#include <string>

#include "train/report_html.hpp"
#include "train/retrain.hpp"

namespace tinception {

// `layer` is the bottleneck layer the run trained on.
ReportData report_data(const RetrainOptions& options, const RetrainResult& result, const std::string& layer);

// The model's training record: the report's settings except how the features were obtained
// (cache folder, computed or cached: the same model comes from either) and the weight file
// (the model records it apart, with its checksum), the data folder made
// absolute, the counts and results, and the date: $SOURCE_DATE_EPOCH when set (as
// reproducible builds do, so a re-run writes the same bytes), else now.
TrainingRecord training_record(const RetrainOptions& options, const RetrainResult& result, const std::string& layer);

}  // namespace tinception
