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
    r.misclassified = {{dir.file("wrong.png"), "", "darth_vader", "<elsa>", 0.75},
                       {dir.file("huge.jpg"), "", "darth_vader", "<elsa>", 0.6},
                       {dir.file("gone.jpg"), "", "darth_vader", "<elsa>", 0.55}};
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
    CHECK(html.find(">step 91</text>") != std::string::npos);  // 1-based, as the console counts
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

TEST_CASE("per-class precision, recall and F1 follow from the confusion matrix") {
    // rows: true a, b, c; columns: predicted a, b, c. Nothing is predicted as c.
    const std::vector<ClassScores> s = class_scores({{8, 2, 0}, {1, 4, 0}, {0, 3, 0}});
    REQUIRE(s.size() == 3);
    CHECK(s[0].precision == doctest::Approx(8.0 / 9.0));
    CHECK(s[0].recall == doctest::Approx(8.0 / 10.0));
    CHECK(s[0].f1 == doctest::Approx(2 * (8.0 / 9) * 0.8 / (8.0 / 9 + 0.8)));
    CHECK(s[0].support == 10);
    CHECK(s[1].precision == doctest::Approx(4.0 / 9.0));
    CHECK(s[1].recall == doctest::Approx(4.0 / 5.0));
    CHECK(std::isnan(s[2].precision));
    CHECK(s[2].recall == 0.0);
    CHECK(s[2].support == 3);
}

TEST_CASE("the report explains the run: settings, split counts, skipped files, scores, cross-validation") {
    ReportData r;
    r.labels = {"darth_vader", "elsa"};
    r.settings = {{"data folder", "/data/<heroes>"}, {"seed", "7"}};
    r.split_counts = {{200, 20, 28}, {190, 24, 28}};
    r.skipped = {"/data/heroes/elsa/x.jpg: skipped, JPEG is truncated"};
    r.confusion = {{27, 1}, {2, 26}};
    r.test_accuracy = 53.0 / 56.0;
    r.test_count = 56;
    r.fold_accuracy = {0.95, 0.97, 1.0};
    r.fold_mean = 0.9733;
    r.fold_stddev = 0.025;
    TrainProgress first, last;
    first.step = 0;
    first.train_accuracy = first.validation_accuracy = 0.5;
    last.step = 3999;
    last.train_accuracy = last.validation_accuracy = 0.99;
    first.cross_entropy = first.validation_cross_entropy = 0.7;
    last.cross_entropy = last.validation_cross_entropy = 0.1;
    r.history = {first, last};
    r.misclassified = {{"/nonexistent/elsa/a_very_long_file_name.jpg", "elsa/a_very_long_file_name.jpg", "elsa",
                        "darth_vader", 0.6}};
    const std::string html = render_report_html(r);
    for (const char* id : {"settings", "images", "test", "training", "cross-validation", "confusion", "misclassified"}) {
        CAPTURE(id);
        CHECK(html.find(std::string("<section id=\"") + id + "\">") != std::string::npos);
    }
    CHECK(html.find("/data/&lt;heroes&gt;") != std::string::npos);
    CHECK(html.find("<td>darth_vader</td><td>200</td><td>20</td><td>28</td><td>248</td>") != std::string::npos);
    CHECK(html.find("<th>all</th><th>390</th><th>44</th><th>56</th><th>490</th>") != std::string::npos);
    CHECK(html.find("<li>/data/heroes/elsa/x.jpg: skipped, JPEG is truncated</li>") != std::string::npos);
    CHECK(html.find("<td>elsa</td><td>96.3%</td><td>92.9%</td><td>94.5%</td><td>28</td>") != std::string::npos);
    CHECK(html.find("3-fold mean accuracy 97.3% &plusmn; 2.5 (folds: 95.0% 97.0% 100.0%)") != std::string::npos);
    CHECK(html.find(">step 4000</text>") != std::string::npos);
    // The accuracy plot runs from 0 to 1 whatever the data; the cross-entropy one spans it.
    CHECK(html.find("text-anchor=\"end\" font-size=\"11\">1</text>") != std::string::npos);
    CHECK(html.find("text-anchor=\"end\" font-size=\"11\">0</text>") != std::string::npos);
    CHECK(html.find("<figcaption>elsa/a_very_long_file_name.jpg (") != std::string::npos);
}
