// The training report as a person sees it: rendered by a real browser (headless Chromium,
// Debian's `chromium`), with many misclassified images under long names. A script appended
// to the page measures the laid-out boxes; the test asserts every section is there, no two
// misclassified cards overlap and no caption runs outside its card.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stb_image_write.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "cli_harness.hpp"
#include "temp_dir.hpp"
#include "train/report_html.hpp"

using namespace tinception;
using tinception::testing::TempDir;

namespace {

// Writes {"cards":N,"overlaps":N,"overflowing":N,"sections":"a,b"} into body[data-check]
// once everything, thumbnails included, has loaded.
const char* const kLayoutCheck = R"(<script>
window.addEventListener('load', () => {
  const cards = [...document.querySelectorAll('figure.miss')];
  const boxes = cards.map(c => c.getBoundingClientRect());
  let overlaps = 0;
  for (let i = 0; i < boxes.length; ++i)
    for (let j = i + 1; j < boxes.length; ++j) {
      const a = boxes[i], b = boxes[j];
      if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) ++overlaps;
    }
  let overflowing = 0;
  for (const c of cards) {
    const caption = c.querySelector('figcaption');
    if (caption.scrollWidth > caption.clientWidth + 1 || c.scrollWidth > c.clientWidth + 1) ++overflowing;
  }
  const sections = [...document.querySelectorAll('section')].map(s => s.id).join(',');
  document.body.setAttribute('data-check', JSON.stringify({cards: cards.length, overlaps, overflowing, sections}));
});
</script>
)";

std::string chromium_path() {
    const char* forced = std::getenv("TINCEPTION_CHROMIUM");
    const std::string path = forced && *forced ? forced : "/usr/bin/chromium";
    REQUIRE_MESSAGE(std::filesystem::exists(path), path << " not found; tests/browser/install.sh (run by tools/test.sh) "
                                                           "installs Debian's chromium");
    return path;
}

// Chromium's DOM after the load event, from --dump-dom.
std::string rendered_dom(const std::string& html_path, const TempDir& dir) {
    const std::string chromium = chromium_path();
    const std::string out_path = dir.file("dom.html");
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int devnull = ::open("/dev/null", O_WRONLY);
        if (out < 0 || devnull < 0 || ::dup2(out, 1) < 0 || ::dup2(devnull, 2) < 0) ::_exit(127);
        const std::string profile = "--user-data-dir=" + dir.file("profile");
        const std::string url = "file://" + html_path;
        const char* argv[] = {chromium.c_str(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                              "--window-size=1200,900", "--virtual-time-budget=20000", profile.c_str(),
                              "--dump-dom", url.c_str(), nullptr};
        ::execv(chromium.c_str(), const_cast<char* const*>(argv));
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0), "chromium failed on " << html_path);
    return tinception::testing::slurp(out_path);
}

int field(const std::string& json, const std::string& name) {
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_search(json, m, std::regex("\"" + name + "\":(\\d+)")), "no " << name << " in " << json);
    return std::stoi(m[1]);
}

}  // namespace

TEST_CASE("report in a real browser: every section present, 30 misclassified cards, none overlapping") {
    TempDir dir;
    ReportData r;
    r.labels = {"darth_vader", "elsa"};
    r.settings = {{"data folder", "/data/heroes"}, {"seed", "1"}};
    r.split_counts = {{200, 20, 28}, {190, 24, 28}};
    r.skipped = {"/data/heroes/elsa/x.jpg: skipped, JPEG is truncated"};
    r.confusion = {{13, 15}, {15, 13}};
    r.test_accuracy = 26.0 / 56.0;
    r.test_count = 56;
    r.fold_accuracy = {0.5, 0.6};
    r.fold_mean = 0.55;
    r.fold_stddev = 0.07;
    for (int step = 0; step < 100; step += 10) {
        TrainProgress p;
        p.step = step;
        p.train_accuracy = p.validation_accuracy = 0.5 + step / 250.0;
        p.cross_entropy = p.validation_cross_entropy = 0.7 - step / 250.0;
        r.history.push_back(p);
    }
    // Thumbnails of several shapes, and captions that are long with no place to break.
    for (int i = 0; i < 30; ++i) {
        const int w = 40 + 37 * (i % 5), h = 30 + 29 * (i % 3);
        std::vector<unsigned char> pixels(std::size_t(w) * h * 3, (unsigned char)(i * 8));
        const std::string path = dir.file("miss" + std::to_string(i) + ".jpg");
        REQUIRE(stbi_write_jpg(path.c_str(), w, h, 3, pixels.data(), 80));
        const std::string caption = i % 2 ? "elsa/" + std::string(60 + i, 'x') + ".jpg"
                                          : "darth_vader/s1images (" + std::to_string(i) + ") copy of a copy.jpg";
        r.misclassified.push_back({path, caption, i % 2 ? "elsa" : "darth_vader", i % 2 ? "darth_vader" : "elsa", 0.6});
    }
    const std::string html_path = dir.file("report.html");
    std::string html = render_report_html(r);
    html.insert(html.rfind("</body>"), kLayoutCheck);
    std::ofstream(html_path, std::ios::binary) << html;

    const std::string dom = rendered_dom(html_path, dir);
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_search(dom, m, std::regex("data-check=\"([^\"]*)\"")), "the check did not run: " << dom.substr(0, 300));
    std::string json = m[1];
    json = std::regex_replace(json, std::regex("&quot;"), "\"");
    MESSAGE("layout: " << json);
    CHECK(field(json, "cards") == 30);
    CHECK(field(json, "overlaps") == 0);
    CHECK(field(json, "overflowing") == 0);
    CHECK(json.find("\"sections\":\"settings,images,test,training,cross-validation,confusion,misclassified\"") !=
          std::string::npos);
}
