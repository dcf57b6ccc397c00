// The metrics file of train --metrics-json; see metrics_json.hpp.
#include "train/metrics_json.hpp"

#include <cmath>
#include <cstdio>

#include "train/retrain.hpp"

namespace tinception {
namespace {

// A JSON number with 6 significant digits; JSON has no NaN or infinity, so those are null.
std::string number(double value) {
    if (!std::isfinite(value)) return "null";
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", value);
    return text;
}

}  // namespace

std::string metrics_json(const RetrainResult& r) {
    std::string out = "{\n  \"evaluations\": [";
    for (std::size_t i = 0; i < r.history.size(); ++i) {
        const TrainProgress& p = r.history[i];
        out += std::string(i ? "," : "") + "\n    {\"step\": " + std::to_string(p.step + 1) +
               ", \"train_accuracy\": " + number(p.train_accuracy) + ", \"train_cross_entropy\": " +
               number(p.cross_entropy) + ", \"validation_accuracy\": " + number(p.validation_accuracy) +
               ", \"validation_cross_entropy\": " + number(p.validation_cross_entropy) + "}";
    }
    out += r.history.empty() ? "],\n" : "\n  ],\n";
    out += "  \"test\": ";
    out += r.testing_count == 0 ? "null" : "{\"images\": " + std::to_string(r.testing_count) + ", \"accuracy\": " +
                                               number(r.test.accuracy) + ", \"cross_entropy\": " +
                                               number(r.test.cross_entropy) + "}";
    out += ",\n  \"cross_validation\": ";
    const CrossValidationResult& cv = r.cross_validation;
    out += cv.fold_accuracy.empty() ? "null" : "{\"folds\": " + std::to_string(cv.fold_accuracy.size()) +
                                                   ", \"mean_accuracy\": " + number(cv.mean_accuracy) +
                                                   ", \"stddev_accuracy\": " + number(cv.stddev_accuracy) + "}";
    return out + "\n}\n";
}

}  // namespace tinception
