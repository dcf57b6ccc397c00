// A self-contained HTML training report that explains the run: its settings, the images per
// category and split, skipped files and why, SVG plots of accuracy and cross-entropy, the
// test accuracy with per-class precision, recall and F1, the confusion matrix, the
// cross-validation result, and thumbnails of misclassified test images embedded as data
// URIs. Pure string building; the only file access is reading thumbnails.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "train/final_layer.hpp"
#include "classify/split_counts.hpp"

namespace tinception {

struct MisclassifiedImage {
    std::string path;        // read for the thumbnail
    std::string caption;     // the path inside the data folder; `path` when empty
    std::string true_label;
    std::string predicted_label;
    double probability = 0;  // of the predicted label
};

// Images of one category in each split.
struct ReportData {
    std::string title = "tinception training report";
    std::vector<std::pair<std::string, std::string>> settings;  // name, value; in this order
    std::vector<TrainProgress> history;  // steps 0-based; shown 1-based, as the console counts
    std::vector<std::string> labels;
    std::vector<SplitCounts> split_counts;  // per label; empty: not shown
    std::vector<std::string> skipped;       // one line each: file and reason
    std::vector<double> fold_accuracy;      // cross-validation, per fold; empty: not run
    double fold_mean = 0, fold_stddev = 0;
    std::vector<std::vector<int>> confusion;  // [true][predicted], on the test set
    double test_accuracy = 0;
    std::size_t test_count = 0;
    std::vector<MisclassifiedImage> misclassified;
    std::size_t max_thumbnails = 50;
    std::size_t max_thumbnail_bytes = 2 << 20;  // larger files are listed without a picture
    int thumbnail_width = 160;                  // the <img> width attribute, in pixels
};

std::string render_report_html(const ReportData& report);

// Per class, from a [true][predicted] confusion matrix: precision (of the images predicted as
// the class, the share that are), recall (of the class's images, the share found) and F1.
// A class with nothing predicted or nothing to find gets NaN for the undefined figures.
struct ClassScores {
    double precision = 0, recall = 0, f1 = 0;
    int support = 0;  // images of the class
};
std::vector<ClassScores> class_scores(const std::vector<std::vector<int>>& confusion);

// RFC 4648 base64 with padding.
std::string base64_encode(const std::uint8_t* data, std::size_t size);
// &, <, >, " and ' as entities.
std::string html_escape(const std::string& text);

}  // namespace tinception
