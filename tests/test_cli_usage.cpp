// What a new user types first, through the real program but without real weights: every
// argument is checked before any work, refused with one line naming the option, the path or
// the spelling to use, exit code 2, and nothing written.
#include <doctest/doctest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "classifier_model_v1.hpp"
#include "classify/classifier_model.hpp"
#include "classify/output_naming.hpp"
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

// A 2x2 binary PPM: an image guess decodes, so that it goes on to open the model's weights.
fs::path write_tiny_image(const fs::path& path) {
    write_text(path, std::string("P6\n2 2\n255\n") + std::string(12, '\x80'));
    return path;
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

// A model file of two labels over mixed5's 768 features that records `weights` as its
// weight file; the head is zeros, as nothing here classifies.
void write_model(const fs::path& path, const std::string& weights) {
    tinception::ClassifierModel m;
    m.labels = {"cats", "dogs"};
    m.feature_layer = "mixed5";
    m.feature_size = 768;
    m.weights_path = weights;
    m.head.n_classes = 2;
    m.head.feature_size = 768;
    m.head.weights.assign(2 * 768, 0.0f);
    m.head.bias.assign(2, 0.0f);
    tinception::save_classifier_model(path.string(), m);
}

// Sets an environment variable for the programs started in its scope, then restores it.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old, had_ = true;
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() { had_ ? ::setenv(name_, old_.c_str(), 1) : ::unsetenv(name_); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::string old_;
    bool had_ = false;
};

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

TEST_CASE("embed, guess, train: a bad --precision, bf16 with fine-tuning or int8 without a calibration folder is refused before any work") {
    Fixture f;
    check_refused(run_tinception({"embed", f.weights.string(), "a.jpg", "--precision", "fp16"}),
                  "--precision takes fp32, bf16 or int8, not 'fp16'");
    check_refused(run_tinception({"train", "d", "-o", "m.tcm", "--precision", "bf16", "--fine-tune-from", "mixed6"}),
                  "--precision bf16 does not take --fine-tune-from");
    check_refused(run_tinception({"embed", f.weights.string(), "a.jpg", "--precision", "int8"}),
                  "--precision int8 needs --calibrate FOLDER");
    check_refused(run_tinception({"guess", "m.tcm", "a.jpg", "--precision", "int8", "--calibrate", "d",
                                  "--calibrate-rule", "p200"}),
                  "calibration rule 'p200' is not 'max', 'mse' or a percentile");
}

TEST_CASE("info: TINCEPTION_ISA=reference forces the reference tables for int8 too") {
    const std::string exe = required_env_path("TINCEPTION_EXE");
    const CommandResult forced = run_program("env", {"TINCEPTION_ISA=reference", exe, "info"});
    REQUIRE(forced.exit_code == 0);
    CHECK(contains(forced.out, "fp32 (reference), int8 (reference"));
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
    for (const char* command : {"train", "guess", "guess-dir", "embed", "bottlenecks", "info", "export", "preprocess"}) {
        INFO(std::string(command));
        const CommandResult r = run_tinception({command, "--help"});
        CHECK(r.exit_code == 0);
        std::string help;  // wrapped lines joined, so a default cut over two lines is seen whole
        for (const char ch : r.out)
            if (!(std::isspace(static_cast<unsigned char>(ch)) && !help.empty() && help.back() == ' '))
                help += std::isspace(static_cast<unsigned char>(ch)) ? ' ' : ch;
        CHECK_FALSE(contains(help, "(default: \"\")"));
        const std::size_t weights = help.find("--weights");
        if (weights != std::string::npos) {
            const std::string text = help.substr(weights, help.find(" --", weights + 2) - weights);
            CHECK(text.find("default") == text.rfind("default"));  // one default named
        }
    }
    CHECK(tinception::skipped_message("a/b.jpg", "a/b.jpg: JPEG is truncated") == "a/b.jpg: skipped, JPEG is truncated");
}

TEST_CASE("defect 7: a relative weights path is recorded from the model's folder and looked up from there") {
    TempDir dir;
    // Recorded relative to the model's folder, whatever the current folder was.
    const fs::path cwd = fs::current_path();
    fs::current_path(dir.path());
    const std::string from_elsewhere = tinception::weights_path_to_record("models/m.tcm", "weights/w.tcw");
    const std::string absolute = tinception::weights_path_to_record("models/m.tcm", (dir.path() / "w.tcw").string());
    fs::current_path(cwd);
    CHECK(from_elsewhere == "../weights/w.tcw");
    CHECK(absolute == (dir.path() / "w.tcw").string());

    // A model moved together with its weights finds them from any current folder: the
    // stand-in is opened (and refused as a weight file), so it was found where recorded.
    const fs::path moved = dir.path() / "moved";
    fs::create_directories(moved / "models");
    fs::create_directories(moved / "weights");
    write_model(moved / "models" / "m.tcm", "../weights/w.tcw");
    write_text(moved / "weights" / "w.tcw", "a stand-in, not a weight file");
    const fs::path image = write_tiny_image(dir.path() / "tiny.ppm");
    const CommandResult found = run_tinception({"guess", (moved / "models" / "m.tcm").string(), image.string()}, "/");
    INFO(found.err);
    CHECK(found.exit_code == 2);
    CHECK(contains(found.err, (moved / "weights" / "w.tcw").string() + ": "));
    CHECK_FALSE(contains(found.err, "cannot open"));
}

TEST_CASE("defect 7: missing weights are looked for at the default, and the error names every place and --weights") {
    TempDir dir;
    write_model(dir.path() / "m.tcm", "gone/w.tcw");
    write_text(dir.path() / "default.tcw", "a stand-in default");
    {
        // The recorded file is gone: the default weight file is tried next.
        const ScopedEnv env("TINCEPTION_WEIGHTS", (dir.path() / "default.tcw").string());
        const fs::path image = write_tiny_image(dir.path() / "tiny.ppm");
        const CommandResult r = run_tinception({"guess", (dir.path() / "m.tcm").string(), image.string()});
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, (dir.path() / "default.tcw").string() + ": "));
    }
    const ScopedEnv env("TINCEPTION_WEIGHTS", (dir.path() / "no default.tcw").string());
    for (const char* command : {"guess", "guess-dir"}) {
        CAPTURE(command);
        std::vector<std::string> args{command, (dir.path() / "m.tcm").string(), "a.jpg"};
        if (std::string(command) == "guess-dir") args = {command, (dir.path() / "m.tcm").string(), dir.path().string(),
                                                         (dir.path() / "out").string()};
        check_refused(run_tinception(args),
                      (dir.path() / "m.tcm").string() + ": its weight file is not found (looked at " +
                          (dir.path() / "gone" / "w.tcw").string() + ", " + (dir.path() / "no default.tcw").string() +
                          "); pass --weights FILE with the weights it was trained on");
    }
    CHECK_FALSE(fs::exists(dir.path() / "out"));
}

TEST_CASE("guess-dir's names: a label read from a model never names a place outside OUT_DIR") {
    CHECK(tinception::safe_name_for_label("elsa") == "elsa");
    CHECK(tinception::safe_name_for_label("../../etc") == ".._.._etc");
    CHECK(tinception::safe_name_for_label("..") == "_");
    CHECK(tinception::safe_name_for_label("") == "_");
    CHECK(tinception::classified_file_name("a/b", 0.5f, "in/x.y.JPG") == "a_b-0.50000.JPG");
    CHECK(tinception::classified_file_name(".", 1.0f, "noext") == "_-1.00000");
}

TEST_CASE("info MODEL: labels, how it was trained, its results and where its weights are looked for") {
    TempDir dir;
    write_model(dir.path() / "m.tcm", "w.tcw");
    tinception::ClassifierModel m = tinception::load_classifier_model((dir.path() / "m.tcm").string());
    m.training.present = true;
    m.training.trained_at = "2026-11-30T12:00:00Z";
    m.training.settings = {{"data folder", "/data/pets"}, {"steps", "300"}, {"seed", "7"}};
    m.training.split_counts = {{30, 4, 3}, {25, 3, 5}};
    m.training.test_count = 8;
    m.training.test_accuracy = 0.875f;
    m.training.folds = 5;
    m.training.fold_mean = 0.9f;
    m.training.fold_stddev = 0.0213f;
    m.augmentation = tinception::TestTimeAugmentation::flip;
    tinception::save_classifier_model((dir.path() / "m.tcm").string(), m);
    write_text(dir.path() / "w.tcw", "a stand-in");
    const ScopedEnv env("TINCEPTION_WEIGHTS", (dir.path() / "default.tcw").string());
    const CommandResult r = run_tinception({"info", (dir.path() / "m.tcm").string()});
    INFO(r.err);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    const std::vector<std::string> expected{
        "format:       tcm version 6",
        "labels:       2: cats, dogs",
        "bottleneck:   mixed5 (768 features)",
        "test time:    each image's scores averaged with its mirror's (--tta flip)",
        "trained:      2026-11-30T12:00:00Z",
        "  data folder                /data/pets",
        "  seed                       7",
        "images:              training  validation  testing",
        "              cats         30           4        3",
        "              total        55           7        8",
        "test accuracy: 87.5% on 8 images",
        "cross-validated accuracy: 90.0% +- 2.1 (5 folds)",
        "weights:      checksum 0x00000000, recorded as w.tcw",
        "  " + (dir.path() / "w.tcw").string() + ": there, unreadable: ",
        "  " + (dir.path() / "default.tcw").string() + ": not there",
    };
    for (const std::string& line : expected) {
        CAPTURE(line);
        CHECK(contains(r.out, line));
    }
    // A format-1 model (no record) says so; a weight file is still described as one.
    const std::vector<std::uint8_t> v1 = tinception::testing::format1_bytes(m);
    write_text(dir.path() / "v1.tcm", std::string(v1.begin(), v1.end()));
    const CommandResult old = run_tinception({"info", (dir.path() / "v1.tcm").string()});
    CHECK(old.exit_code == 0);
    CHECK(contains(old.out, "format:       tcm version 1"));
    CHECK(contains(old.out, "training:     not recorded (a format 1 model, written before models kept it)"));
    CHECK(contains(old.out, "labels:       2: cats, dogs"));
    CHECK_FALSE(contains(old.out, "test accuracy"));
    check_refused(run_tinception({"info", (dir.path() / "missing.tcm").string()}), "missing.tcm: cannot open");
}

TEST_CASE("guess: a bad image is refused before the weight file is opened") {
    TempDir dir;
    write_model(dir.path() / "m.tcm", "w.tcw");
    write_text(dir.path() / "w.tcw", "a stand-in, not a weight file");
    write_text(dir.path() / "empty.jpg", "");
    const CommandResult r = run_tinception({"guess", (dir.path() / "m.tcm").string(), (dir.path() / "empty.jpg").string()});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "empty.jpg: file is empty"));
    CHECK_FALSE(contains(r.err, "w.tcw"));  // the stand-in, had it been opened, would be refused by name
}
