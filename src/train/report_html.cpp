// Report rendering. Plots are polylines in a fixed viewBox; NaN points (no validation set)
// are left out of their line.
#include "train/report_html.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

#include "error.hpp"
#include "file_io.hpp"

namespace tinception {
namespace {

std::string fmt(double v, const char* spec = "%.4g") {
    char buf[64];
    std::snprintf(buf, sizeof buf, spec, v);
    return buf;
}

std::string mime_type(const std::string& path) {
    std::string ext = path.substr(path.find_last_of('.') == std::string::npos ? path.size() : path.find_last_of('.') + 1);
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (ext == "png") return "image/png";
    if (ext == "gif") return "image/gif";
    if (ext == "bmp") return "image/bmp";
    return "image/jpeg";
}

struct Series {
    std::string name;
    std::string colour;
    std::function<double(const TrainProgress&)> value;
};

// `range` fixes the y axis (accuracy runs from 0 to 1, so a flat line near 1 reads as one);
// otherwise it spans the data. Steps are drawn 1-based, as the console counts them.
std::string line_plot(const std::string& title, const std::vector<TrainProgress>& history,
                      const std::vector<Series>& series, std::optional<std::pair<double, double>> range = {}) {
    constexpr double kW = 640, kH = 280, kLeft = 50, kRight = 10, kTop = 30, kBottom = 30;
    std::string svg = "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"280\" "
                      "viewBox=\"0 0 640 280\">\n<text x=\"320\" y=\"18\" text-anchor=\"middle\">" +
                      html_escape(title) + "</text>\n";
    double lo = INFINITY, hi = -INFINITY;
    int max_step = 1;
    for (const TrainProgress& p : history) {
        max_step = std::max(max_step, p.step);
        for (const Series& s : series) {
            const double v = s.value(p);
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        }
    }
    if (range) std::tie(lo, hi) = *range;
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (hi - lo < 1e-9) hi = lo + 1;
    const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
    svg += "<rect x=\"" + fmt(kLeft) + "\" y=\"" + fmt(kTop) + "\" width=\"" + fmt(pw) + "\" height=\"" + fmt(ph) +
           "\" fill=\"none\" stroke=\"#999\"/>\n";
    svg += "<text x=\"" + fmt(kLeft - 4) + "\" y=\"" + fmt(kTop + 10) + "\" text-anchor=\"end\" font-size=\"11\">" +
           fmt(hi) + "</text>\n";
    svg += "<text x=\"" + fmt(kLeft - 4) + "\" y=\"" + fmt(kTop + ph) + "\" text-anchor=\"end\" font-size=\"11\">" +
           fmt(lo) + "</text>\n";
    svg += "<text x=\"" + fmt(kLeft + pw) + "\" y=\"" + fmt(kH - 10) + "\" text-anchor=\"end\" font-size=\"11\">step " +
           std::to_string(max_step + 1) + "</text>\n";
    double legend_x = kLeft + 10;
    for (const Series& s : series) {
        std::string points;
        for (const TrainProgress& p : history) {
            const double v = s.value(p);
            if (!std::isfinite(v)) continue;
            const double x = kLeft + pw * double(p.step) / double(max_step);
            const double y = kTop + ph * (hi - v) / (hi - lo);
            points += fmt(x, "%.1f") + "," + fmt(y, "%.1f") + " ";
        }
        svg += "<polyline fill=\"none\" stroke=\"" + s.colour + "\" stroke-width=\"1.5\" points=\"" + points +
               "\"><title>" + html_escape(s.name) + "</title></polyline>\n";
        svg += "<text x=\"" + fmt(legend_x) + "\" y=\"" + fmt(kH - 10) + "\" fill=\"" + s.colour +
               "\" font-size=\"11\">" + html_escape(s.name) + "</text>\n";
        legend_x += 160;
    }
    return svg + "</svg>\n";
}

std::string confusion_table(const ReportData& r) {
    std::string html = "<table class=\"confusion\">\n<tr><th>true \\ predicted</th>";
    for (const std::string& label : r.labels) html += "<th>" + html_escape(label) + "</th>";
    html += "</tr>\n";
    for (std::size_t t = 0; t < r.confusion.size(); ++t) {
        html += "<tr><th>" + html_escape(t < r.labels.size() ? r.labels[t] : std::to_string(t)) + "</th>";
        int row_total = 0;
        for (int v : r.confusion[t]) row_total += v;
        for (std::size_t p = 0; p < r.confusion[t].size(); ++p) {
            const int v = r.confusion[t][p];
            const double share = row_total > 0 ? double(v) / row_total : 0.0;
            const std::string colour = p == t ? "rgba(40,160,60," : "rgba(200,40,40,";
            html += "<td style=\"background:" + colour + fmt(0.1 + 0.6 * share, "%.2f") + ")\">" + std::to_string(v) +
                    "</td>";
        }
        html += "</tr>\n";
    }
    return html + "</table>\n";
}

std::string thumbnails(const ReportData& r) {
    if (r.misclassified.empty()) return "<p>No misclassified test images.</p>\n";
    std::string html = "<div class=\"misclassified\">\n";
    const std::size_t n = std::min(r.max_thumbnails, r.misclassified.size());
    for (std::size_t i = 0; i < n; ++i) {
        const MisclassifiedImage& m = r.misclassified[i];
        html += "<figure class=\"miss\">";
        std::string note;
        try {
            const std::vector<std::uint8_t> bytes = read_file_bytes(m.path);
            if (bytes.size() <= r.max_thumbnail_bytes)
                html += "<img width=\"" + std::to_string(r.thumbnail_width) + "\" alt=\"" + html_escape(m.path) +
                        "\" src=\"data:" + mime_type(m.path) + ";base64," + base64_encode(bytes.data(), bytes.size()) +
                        "\">";
            else
                note = " (image too large to embed)";
        } catch (const Error& e) {
            note = std::string(" (") + e.what() + ")";
        }
        const std::string& caption = m.caption.empty() ? m.path : m.caption;
        html += "<figcaption>" + html_escape(caption + note) + "<br>true: " + html_escape(m.true_label) +
                ", predicted: " + html_escape(m.predicted_label) + " (" + fmt(m.probability, "%.3f") +
                ")</figcaption></figure>\n";
    }
    if (n < r.misclassified.size())
        html += "<p>and " + std::to_string(r.misclassified.size() - n) + " more not shown.</p>\n";
    return html + "</div>\n";
}

std::string table_row(const std::vector<std::string>& cells, const char* cell = "td") {
    std::string html = "<tr>";
    for (const std::string& c : cells) html += std::string("<") + cell + ">" + c + "</" + cell + ">";
    return html + "</tr>\n";
}

std::string percent(double share) { return std::isfinite(share) ? fmt(100.0 * share, "%.1f") + "%" : "n/a"; }

std::string settings_section(const ReportData& r) {
    std::string html = "<section id=\"settings\">\n<h2>Settings</h2>\n<table class=\"grid\">\n";
    for (const auto& [name, value] : r.settings) html += table_row({html_escape(name), html_escape(value)});
    return html + "</table>\n</section>\n";
}

std::string images_section(const ReportData& r) {
    std::string html = "<section id=\"images\">\n<h2>Images per category and split</h2>\n<table class=\"grid\">\n" +
                       table_row({"category", "training", "validation", "testing", "total"}, "th");
    SplitCounts sum;
    for (std::size_t c = 0; c < r.split_counts.size(); ++c) {
        const SplitCounts& s = r.split_counts[c];
        html += table_row({html_escape(c < r.labels.size() ? r.labels[c] : std::to_string(c)), std::to_string(s.training),
                           std::to_string(s.validation), std::to_string(s.testing),
                           std::to_string(s.training + s.validation + s.testing)});
        sum.training += s.training, sum.validation += s.validation, sum.testing += s.testing;
    }
    html += table_row({"all", std::to_string(sum.training), std::to_string(sum.validation), std::to_string(sum.testing),
                       std::to_string(sum.training + sum.validation + sum.testing)}, "th");
    html += "</table>\n<h3>Skipped files</h3>\n";
    if (r.skipped.empty()) return html + "<p class=\"skipped\">None.</p>\n</section>\n";
    html += "<ul class=\"skipped\">\n";
    for (const std::string& line : r.skipped) html += "<li>" + html_escape(line) + "</li>\n";
    return html + "</ul>\n</section>\n";
}

std::string test_section(const ReportData& r) {
    std::string html = "<section id=\"test\">\n<h2>Final test accuracy</h2>\n<p class=\"test-accuracy\">" +
                       fmt(100.0 * r.test_accuracy, "%.1f") + "% (N=" + std::to_string(r.test_count) + ")</p>\n";
    html += "<table class=\"grid\">\n" + table_row({"category", "precision", "recall", "F1", "test images"}, "th");
    const std::vector<ClassScores> scores = class_scores(r.confusion);
    for (std::size_t c = 0; c < scores.size(); ++c)
        html += table_row({html_escape(c < r.labels.size() ? r.labels[c] : std::to_string(c)), percent(scores[c].precision),
                           percent(scores[c].recall), percent(scores[c].f1), std::to_string(scores[c].support)});
    return html + "</table>\n</section>\n";
}

std::string cross_validation_section(const ReportData& r) {
    std::string html = "<section id=\"cross-validation\">\n<h2>Cross-validation</h2>\n";
    if (r.fold_accuracy.empty()) return html + "<p>Not run (train --cross-validate K runs it).</p>\n</section>\n";
    html += "<p class=\"cv-accuracy\">" + std::to_string(r.fold_accuracy.size()) + "-fold mean accuracy " +
            fmt(100.0 * r.fold_mean, "%.1f") + "% &plusmn; " + fmt(100.0 * r.fold_stddev, "%.1f") + " (folds:";
    for (const double a : r.fold_accuracy) html += " " + fmt(100.0 * a, "%.1f") + "%";
    return html + ")</p>\n</section>\n";
}

}  // namespace

std::vector<ClassScores> class_scores(const std::vector<std::vector<int>>& confusion) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<ClassScores> scores(confusion.size());
    for (std::size_t c = 0; c < confusion.size(); ++c) {
        int predicted = 0, found = confusion[c].size() > c ? confusion[c][c] : 0;
        for (const std::vector<int>& row : confusion) predicted += row.size() > c ? row[c] : 0;
        for (const int v : confusion[c]) scores[c].support += v;
        ClassScores& s = scores[c];
        s.precision = predicted > 0 ? double(found) / predicted : nan;
        s.recall = s.support > 0 ? double(found) / s.support : nan;
        s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : nan;
    }
    return scores;
}

std::string base64_encode(const std::uint8_t* data, std::size_t size) {
    static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const std::uint32_t v = std::uint32_t(data[i]) << 16 | std::uint32_t(data[i + 1]) << 8 | data[i + 2];
        for (int k = 3; k >= 0; --k) out += kAlphabet[(v >> (6 * k)) & 63];
    }
    if (size - i == 1) {
        const std::uint32_t v = std::uint32_t(data[i]) << 16;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += "==";
    } else if (size - i == 2) {
        const std::uint32_t v = std::uint32_t(data[i]) << 16 | std::uint32_t(data[i + 1]) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

std::string html_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string render_report_html(const ReportData& r) {
    std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
                       html_escape(r.title) +
                       "</title>\n<style>\nbody{font-family:sans-serif;margin:2em;}\n"
                       "table.confusion{border-collapse:collapse;}\n"
                       "table.confusion td,table.confusion th{border:1px solid #ccc;padding:4px 8px;text-align:right;}\n"
                       "table.grid{border-collapse:collapse;}\n"
                       "table.grid td,table.grid th{border:1px solid #ccc;padding:3px 8px;text-align:left;}\n"
                       // Fixed-width cards whose captions wrap anywhere: a long path can never
                       // run under its neighbour.
                       "div.misclassified{display:flex;flex-wrap:wrap;gap:12px;}\n"
                       "figure.miss{margin:0;width:200px;font-size:12px;overflow-wrap:anywhere;}\n"
                       "figure.miss img{max-width:100%;height:auto;display:block;}\n"
                       "</style>\n</head>\n<body>\n<h1>" +
                       html_escape(r.title) + "</h1>\n";
    html += settings_section(r) + images_section(r) + test_section(r);
    html += "<section id=\"training\">\n<h2>Training</h2>\n";
    html += line_plot("Accuracy", r.history,
                      {{"train accuracy", "#1f77b4", [](const TrainProgress& p) { return p.train_accuracy; }},
                       {"validation accuracy", "#ff7f0e", [](const TrainProgress& p) { return p.validation_accuracy; }}},
                      std::make_pair(0.0, 1.0));
    html += line_plot("Cross-entropy", r.history,
                      {{"train cross-entropy", "#1f77b4", [](const TrainProgress& p) { return p.cross_entropy; }},
                       {"validation cross-entropy", "#ff7f0e",
                        [](const TrainProgress& p) { return p.validation_cross_entropy; }}});
    html += "</section>\n" + cross_validation_section(r);
    html += "<section id=\"confusion\">\n<h2>Confusion matrix (test set)</h2>\n" + confusion_table(r) + "</section>\n";
    html += "<section id=\"misclassified\">\n<h2>Misclassified test images</h2>\n" + thumbnails(r) + "</section>\n";
    return html + "</body>\n</html>\n";
}

}  // namespace tinception
