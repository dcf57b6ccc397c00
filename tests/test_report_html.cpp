// The HTML report: plots, confusion matrix, accuracy, embedded thumbnails, escaping.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "temp_dir.hpp"
#include "train/report_html.hpp"

using namespace tinception;
using tinception::testing::TempDir;

namespace {

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("base64 matches RFC 4648 test vectors") {
    auto b64 = [](const std::string& s) {
        return base64_encode(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    };
    CHECK(b64("") == "");
    CHECK(b64("f") == "Zg==");
    CHECK(b64("fo") == "Zm8=");
    CHECK(b64("foo") == "Zm9v");
    CHECK(b64("foob") == "Zm9vYg==");
    CHECK(b64("fooba") == "Zm9vYmE=");
    CHECK(b64("foobar") == "Zm9vYmFy");
}

TEST_CASE("the report holds plots, the confusion matrix, the accuracy and thumbnails") {
    TempDir dir;
    std::ofstream(dir.file("wrong.png"), std::ios::binary) << "foobar";
    std::ofstream(dir.file("huge.jpg"), std::ios::binary) << std::string(100, 'x');

    ReportData r;
    r.labels = {"darth_vader", "<elsa>"};
    for (int step = 0; step < 100; step += 10) {
        TrainProgress p;
        p.step = step;
        p.train_accuracy = 0.5 + step / 200.0;
        p.cross_entropy = 1.0 - step / 200.0;
        p.validation_accuracy = step == 50 ? std::numeric_limits<double>::quiet_NaN() : 0.5 + step / 250.0;
        p.validation_cross_entropy = 1.1 - step / 250.0;
        r.history.push_back(p);
    }
    r.confusion = {{7, 1}, {0, 8}};
    r.test_accuracy = 15.0 / 16.0;
    r.test_count = 16;
    r.misclassified = {{dir.file("wrong.png"), "darth_vader", "<elsa>", 0.75},
                       {dir.file("huge.jpg"), "darth_vader", "<elsa>", 0.6},
                       {dir.file("gone.jpg"), "darth_vader", "<elsa>", 0.55}};
    r.max_thumbnail_bytes = 50;
    r.thumbnail_width = 120;
    const std::string html = render_report_html(r);

    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(html.find("</html>") != std::string::npos);
    CHECK(count_of(html, "<svg") == 2);
    CHECK(count_of(html, "<polyline") == 4);
    CHECK(html.find("train accuracy") != std::string::npos);
    CHECK(html.find("validation cross-entropy") != std::string::npos);
    CHECK(html.find("<table class=\"confusion\">") != std::string::npos);
    CHECK(html.find(">7</td>") != std::string::npos);
    CHECK(html.find(">8</td>") != std::string::npos);
    CHECK(html.find("93.8% (N=16)") != std::string::npos);
    CHECK(html.find("<img width=\"120\"") != std::string::npos);
    CHECK(html.find("src=\"data:image/png;base64,Zm9vYmFy\"") != std::string::npos);
    CHECK(count_of(html, "<img") == 1);  // too large and missing files get no picture
    CHECK(html.find("image too large to embed") != std::string::npos);
    CHECK(html.find("gone.jpg: cannot open") != std::string::npos);
    CHECK(html.find("<elsa>") == std::string::npos);
    CHECK(html.find("&lt;elsa&gt;") != std::string::npos);
    CHECK(html.find("nan") == std::string::npos);
    CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // no external assets
}

TEST_CASE("a report without misclassified images or history still renders") {
    ReportData r;
    r.labels = {"a", "b"};
    r.confusion = {{1, 0}, {0, 1}};
    r.test_accuracy = 1.0;
    const std::string html = render_report_html(r);
    CHECK(html.find("No misclassified test images.") != std::string::npos);
    CHECK(html.find("100.0%") != std::string::npos);
}
