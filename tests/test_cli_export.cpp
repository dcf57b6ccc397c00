// `tinception export` and `tinception preprocess` through the program, on the small
// synthetic network: no overwriting without --force, and a corrupted or truncated model
// refused with one line, writing nothing.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cli_harness.hpp"
#include "onnx/onnx_model.hpp"
#include "onnx_export_fixture.hpp"
#include "temp_dir.hpp"

using namespace tinception;
using namespace tinception::testing;
namespace fs = std::filesystem;

namespace {

// Every file name in `dir`, to show a failed command left nothing behind.
std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

TEST_CASE("export: writes the model, refuses to overwrite without --force, checks its options") {
    TempDir dir;
    TinyNetwork network(11);
    const std::string weights = dir.file("tiny.tcw");
    write_tiny_files(network, weights, dir.file("tiny.tcm"));

    const CommandResult first = run_tinception({"export", dir.file("tiny.tcm")});
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    CHECK(first.out.find("wrote " + dir.file("tiny.onnx")) == 0);
    CHECK(first.out.find("input image [N, 13, 13, 3] NHWC, output scores [N, 3]") != std::string::npos);
    const std::string written = slurp(dir.file("tiny.onnx"));
    CHECK(onnx::read_model_file(dir.file("tiny.onnx")).opset == 13);

    const CommandResult again = run_tinception({"export", dir.file("tiny.tcm"), "-o", dir.file("tiny.onnx"), "--batch", "2"});
    CHECK(again.exit_code == 2);
    CHECK(again.err == "tinception: error: " + dir.file("tiny.onnx") +
                           " already exists; choose another name or pass --force to replace it\n");
    CHECK(slurp(dir.file("tiny.onnx")) == written);

    const CommandResult forced =
        run_tinception({"export", dir.file("tiny.tcm"), "-o", dir.file("tiny.onnx"), "--batch", "2", "--opset", "17", "--force"});
    REQUIRE(forced.exit_code == 0);
    const onnx::Model m = onnx::read_model_file(dir.file("tiny.onnx"));
    CHECK(m.opset == 17);
    CHECK(m.graph.inputs.at(0).dims == std::vector<std::int64_t>{2, 13, 13, 3});

    for (const std::vector<std::string>& bad : {std::vector<std::string>{"--opset", "12"}, {"--opset", "99"},
                                               {"--opset", "abc"}, {"--batch", "0"}, {"--batch", "-3"},
                                               {"--batch", "four"}, {"extra-argument"}}) {
        std::vector<std::string> args{"export", dir.file("tiny.tcm"), "-o", dir.file("bad.onnx")};
        args.insert(args.end(), bad.begin(), bad.end());
        CAPTURE(bad.back());
        const CommandResult r = run_tinception(args);
        CHECK(r.exit_code == 2);
        CHECK(lines_of(r.err).size() == 1);
        CHECK(r.err.find(bad[0]) != std::string::npos);  // the option or argument is named
        CHECK_FALSE(fs::exists(dir.file("bad.onnx")));
    }

    // Defect 7: a weights path recorded relative to the model is found from any current folder.
    ClassifierModel relative = load_classifier_model(dir.file("tiny.tcm"));
    relative.weights_path = "tiny.tcw";
    save_classifier_model(dir.file("relative.tcm"), relative);
    const CommandResult moved = run_tinception({"export", dir.file("relative.tcm")}, "/");
    INFO(moved.err);
    CHECK(moved.exit_code == 0);
    CHECK(slurp(dir.file("relative.onnx")) == written);

    const CommandResult pre = run_tinception({"preprocess", dir.file("tiny.tcm"), dir.file("none.jpg"), "-o", dir.file("x.f32")});
    CHECK(pre.exit_code == 2);
    CHECK(lines_of(pre.err).size() == 1);
    CHECK_FALSE(fs::exists(dir.file("x.f32")));
}

TEST_CASE("export: a corrupted or truncated model fails with one line and writes nothing") {
    TempDir dir;
    TinyNetwork network(12);
    const std::string weights = dir.file("tiny.tcw");
    write_tiny_files(network, weights, dir.file("good.tcm"));
    const std::string good = slurp(dir.file("good.tcm"));

    std::vector<std::pair<std::string, std::string>> damaged;
    for (const std::size_t offset : {std::size_t(0), std::size_t(20), good.size() / 2, good.size() - 1}) {
        std::string flipped = good;
        flipped[offset] = char(flipped[offset] ^ 0x40);
        damaged.push_back({"flipped byte " + std::to_string(offset), flipped});
    }
    for (const std::size_t keep : {std::size_t(0), std::size_t(7), std::size_t(30), good.size() - 4, good.size() - 1})
        damaged.push_back({"truncated to " + std::to_string(keep), good.substr(0, keep)});
    damaged.push_back({"with bytes appended", good + "extra"});

    for (const auto& [what, bytes] : damaged) {
        CAPTURE(what);
        write_bytes(dir.file("bad.tcm"), bytes);
        const std::vector<std::string> before = names_in(dir.path());
        const CommandResult r = run_tinception({"export", dir.file("bad.tcm"), "-o", dir.file("bad.onnx")});
        CHECK(r.exit_code == 2);
        REQUIRE(lines_of(r.err).size() == 1);
        CHECK(r.err.rfind("tinception: error: " + dir.file("bad.tcm"), 0) == 0);
        CHECK(r.out.empty());
        CHECK(names_in(dir.path()) == before);
    }

    // A model whose weights changed since training is refused the same way.
    TinyNetwork other(13);
    other.write(weights);
    const CommandResult r = run_tinception({"export", dir.file("good.tcm"), "-o", dir.file("good.onnx")});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("was trained on weights with checksum") != std::string::npos);
    CHECK_FALSE(fs::exists(dir.file("good.onnx")));
}
