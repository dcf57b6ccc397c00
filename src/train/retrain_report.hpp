// What the HTML report of a retraining run shows: the run's settings and results gathered
// from its options and result, so the report explains the run on its own.
#pragma once
#include <string>

#include "train/report_html.hpp"
#include "train/retrain.hpp"

namespace tinception {

// `layer` is the bottleneck layer the run trained on.
ReportData report_data(const RetrainOptions& options, const RetrainResult& result, const std::string& layer);

}  // namespace tinception
