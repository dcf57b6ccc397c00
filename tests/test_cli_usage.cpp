// What a new user types first, through the real program but without real weights: every
// argument is checked before any work, refused with one line naming the option, the path or
// the spelling to use, exit code 2, and nothing written.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_harness.hpp"
#include "error.hpp"
#include "file_io.hpp"
#include "temp_dir.hpp"

using namespace tinception::testing;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    REQUIRE(out.good());
}

// A folder the scan accepts: two categories of `per_category` files that start like PNGs
// (the scan reads signatures only; nothing here is decoded), and a stand-in weight file the
// checks under test refuse before it is ever opened.
struct Fixture {
    TempDir dir;
    fs::path data = dir.path() / "data";
    fs::path weights = dir.path() / "stand-in.tcw";
    explicit Fixture(int per_category = 4) {
        for (const char* label : {"cats", "dogs"}) {
            fs::create_directories(data / label);
            for (int i = 0; i < per_category; ++i)
                write_text(data / label / ("img" + std::to_string(i) + ".png"),
                           std::string("\x89PNG\r\n\x1a\n", 8) + label + std::to_string(i));
        }
        write_text(weights, "not read by these tests");
    }
    std::vector<std::string> train(std::vector<std::string> extra) const {
        std::vector<std::string> args{"train", data.string(), "-o", (dir.path() / "x.tcm").string(), "--weights",
                                      weights.string(), "--no-cache"};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }
};

// One error line on stderr (warnings about the data may come before it), exit code 2.
void check_refused(const CommandResult& r, const std::string& expected_part) {
    INFO(r.err);
    CHECK(r.exit_code == 2);
    std::size_t errors = 0;
    for (const std::string& line : lines_of(r.err)) errors += line.rfind("tinception: error: ", 0) == 0;
    CHECK(errors == 1);
    CHECK(contains(r.err, expected_part));
}

}  // namespace

TEST_CASE("defect 1: an output in a missing folder is refused before any work, naming the user's path") {
    Fixture f;
    const std::string model = "/nonexistent/dir/x.tcm";
    const CommandResult r = run_tinception({"train", f.data.string(), "-o", model, "--weights", f.weights.string()});
    check_refused(r, model + ": cannot write there: folder /nonexistent/dir does not exist");
    CHECK_FALSE(contains(r.err, ".tmp."));
    const CommandResult report = run_tinception(f.train({"--report", (f.dir.path() / "no" / "r.html").string()}));
    check_refused(report, (f.dir.path() / "no" / "r.html").string() + ": cannot write there");
}

TEST_CASE("defect 2: outputs of one run appear together or not at all") {
    Fixture f;
    const CommandResult r = run_tinception(f.train({"--output-labels", "/nonexistent/l.txt"}));
    check_refused(r, "/nonexistent/l.txt: cannot write there");
    CHECK_FALSE(fs::exists(f.dir.path() / "x.tcm"));

    // The library's group write: one file that cannot be written keeps every other away.
    TempDir dir;
    const std::string a = "first", b = "second";
    CHECK_THROWS_AS(tinception::write_files_together({{(dir.path() / "a.txt").string(), a.data(), a.size()},
                                                      {(dir.path() / "gone" / "b.txt").string(), b.data(), b.size()}}),
                    tinception::Error);
    CHECK(fs::is_empty(dir.path()));
    tinception::write_files_together({{(dir.path() / "a.txt").string(), a.data(), a.size()},
                                      {(dir.path() / "b.txt").string(), b.data(), b.size()}});
    CHECK(slurp((dir.path() / "a.txt").string()) == a);
    CHECK(slurp((dir.path() / "b.txt").string()) == b);
}

TEST_CASE("defect 3: extra positional arguments are refused") {
    Fixture f;
    const CommandResult train =
        run_tinception({"train", f.data.string(), "/nonexistent_dir", "-o", (f.dir.path() / "x.tcm").string()});
    check_refused(train, "unexpected argument '/nonexistent_dir'");
    CHECK_FALSE(fs::exists(f.dir.path() / "x.tcm"));
    check_refused(run_tinception({"info", f.weights.string(), "/nonexistent"}), "unexpected argument '/nonexistent'");
    check_refused(run_tinception({"guess-dir", "m.tcm", "in", "out", "more"}), "unexpected argument 'more'");
}

TEST_CASE("defect 4: embed without images says what it needs") {
    Fixture f;
    const CommandResult r = run_tinception({"embed", f.weights.string()});
    check_refused(r, "embed needs images to read, or --raw-input FILE");
    CHECK_FALSE(contains(r.err, "not both"));
}

TEST_CASE("defect 5: every numeric option is checked up front, naming the option and its range") {
    Fixture f;
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const Case cases[] = {
        {{"--batch-size", "-1"}, "--batch-size takes a whole number from 0 to 1000000, not '-1'"},
        {{"--validation-batch-size", "-1"}, "--validation-batch-size takes a whole number from 0 to 1000000, not '-1'"},
        {{"--steps", "abc"}, "--steps takes a whole number from 1 to 10000000, not 'abc'"},
        {{"--steps", "-5"}, "--steps takes a whole number from 1 to 10000000, not '-5'"},
        {{"--steps", "12x"}, "--steps takes a whole number"},
        {{"--learning-rate", "0"}, "--learning-rate takes a number above 0, up to 10, not '0'"},
        {{"--eval-interval", "0"}, "--eval-interval takes a whole number from 1"},
        {{"--l2", "-1"}, "--l2 takes a number from 0"},
        {{"--random-crop", "100"}, "--random-crop takes a number from 0 to 99, not '100'"},
        {{"--testing-percentage", "nan"}, "--testing-percentage takes a number from 0 to 99"},
        {{"--distorted-copies", "2"}, "--distorted-copies needs a distortion"},
        {{"--cross-validate", "1"}, "--cross-validate takes K from 2"},
        {{"--cross-validate", "1000"}, "--cross-validate 1000 leaves fold"},
        {{"--seed", "-3"}, "--seed takes a whole number from 0"},
        {{"--optimizer", "rmsprop"}, "--optimizer takes sgd or adam, not 'rmsprop'"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.args[0]);
        CAPTURE(c.args[1]);
        check_refused(run_tinception(f.train(c.args)), c.message);
    }
    CHECK(contains(run_tinception({"train", "--help"}).out, "0: the whole"));
}

TEST_CASE("defect 5: retrain.py and label_image.py spellings get ours suggested") {
    Fixture f;
    check_refused(run_tinception({"train", "--image_dir", f.data.string(), "-o", "x.tcm"}),
                  "'tinception train' has no option --image_dir; did you mean DATA_DIR, the first argument?");
    check_refused(run_tinception(f.train({"--how_many_training_steps", "10"})), "did you mean --steps?");
    check_refused(run_tinception(f.train({"--learning_rate=0.1"})), "did you mean --learning-rate?");
    check_refused(run_tinception({"guess", "m.tcm", "a.jpg", "--top_k", "3"}), "did you mean --top-k?");
    check_refused(run_tinception({"guess", "m.tcm", "a.jpg", "--frobnicate"}), "'tinception guess' has no option --frobnicate (see");
}

TEST_CASE("defect 6: the minimum-size messages agree, and a folder one level too high gets a hint") {
    Fixture two(2);
    const CommandResult r = run_tinception(two.train({}));
    check_refused(r, "category 'cats' has 2 usable images; each category needs at least 3 (one each for training, "
                     "validation and testing)");
    const CommandResult no_splits =
        run_tinception(two.train({"--validation-percentage", "0", "--testing-percentage", "0"}));
    CHECK_FALSE(contains(no_splits.err, "usable images"));  // passes the scan; the stand-in weights fail later

    TempDir dir;
    const fs::path heroes = dir.path() / "data" / "heroes";
    for (const char* label : {"a", "b"}) fs::create_directories(heroes / label);
    write_text(dir.path() / "w.tcw", "x");
    const CommandResult high = run_tinception(
        {"train", (dir.path() / "data").string(), "-o", (dir.path() / "m.tcm").string(), "--weights", (dir.path() / "w.tcw").string()});
    check_refused(high, "category 'heroes' has 0 usable images; each category needs at least 3");
    CHECK(contains(high.err, "it holds folders (a, b): is " + (dir.path() / "data").string() +
                                 " one level too high? Try " + heroes.string()));
}

TEST_CASE("defect 11: --weights shows one default; warnings have one form") {
    for (const char* command : {"train", "guess", "guess-dir"}) {
        CAPTURE(command);
        const CommandResult r = run_tinception({command, "--help"});
        CHECK(r.exit_code == 0);
        for (const std::string& line : lines_of(r.out))
            if (contains(line, "--weights")) CHECK_FALSE(contains(line, "(default: \"\")"));
    }
    CHECK(tinception::skipped_message("a/b.jpg", "a/b.jpg: JPEG is truncated") == "a/b.jpg: skipped, JPEG is truncated");
}
