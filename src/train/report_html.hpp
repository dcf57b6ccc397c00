// A self-contained HTML training report: SVG plots of accuracy and cross-entropy, the
// confusion matrix, the test accuracy, and thumbnails of misclassified test images
// embedded as data URIs. Pure string building; the only file access is reading thumbnails.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "train/final_layer.hpp"

namespace tinception {

struct MisclassifiedImage {
    std::string path;        // read for the thumbnail
    std::string true_label;
    std::string predicted_label;
    double probability = 0;  // of the predicted label
};

struct ReportData {
    std::string title = "tinception training report";
    std::vector<TrainProgress> history;
    std::vector<std::string> labels;
    std::vector<std::vector<int>> confusion;  // [true][predicted], on the test set
    double test_accuracy = 0;
    std::size_t test_count = 0;
    std::vector<MisclassifiedImage> misclassified;
    std::size_t max_thumbnails = 50;
    std::size_t max_thumbnail_bytes = 2 << 20;  // larger files are listed without a picture
    int thumbnail_width = 160;                  // the <img> width attribute, in pixels
};

std::string render_report_html(const ReportData& report);

// RFC 4648 base64 with padding.
std::string base64_encode(const std::uint8_t* data, std::size_t size);
// &, <, >, " and ' as entities.
std::string html_escape(const std::string& text);

}  // namespace tinception
