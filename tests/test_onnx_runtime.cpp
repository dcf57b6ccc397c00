// The exported model in ONNX Runtime (npm onnxruntime-node, tests/onnx_runtime): a model
// trained by the program on superheroes images with the whole trunk, exported, and run on
// held-out images as the program preprocesses them, must give every score within 1e-4 of
// `tinception guess` and the same top label, with a dynamic and a fixed batch. The file also passes ONNX's
// structural rules, and examples/classify_onnx.js prints guess's top lines.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_harness.hpp"
#include "onnx/onnx_model.hpp"
#include "onnx/onnx_structure.hpp"
#include "temp_dir.hpp"

using namespace tinception::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kTrainPerCategory = 12;
constexpr std::size_t kHeldOutPerCategory = 4;

struct Images {
    fs::path data;                 // training folder: the first images of each category
    std::vector<std::string> held_out;  // the last ones, never trained on
};

Images make_images(const TempDir& dir) {
    const fs::path source = required_env_path("TINCEPTION_SUPERHEROES");
    Images images;
    images.data = dir.path() / "data";
    for (const char* category : {"darth_vader", "elsa"}) {
        std::vector<fs::path> paths;
        for (const auto& e : fs::directory_iterator(source / category))
            if (e.path().extension() == ".jpg") paths.push_back(e.path());
        std::sort(paths.begin(), paths.end());
        REQUIRE(paths.size() >= kTrainPerCategory + kHeldOutPerCategory);
        fs::create_directories(images.data / category);
        for (std::size_t i = 0; i < kTrainPerCategory; ++i) fs::copy_file(paths[i], images.data / category / paths[i].filename());
        for (std::size_t i = paths.size() - kHeldOutPerCategory; i < paths.size(); ++i)
            images.held_out.push_back(paths[i].string());
    }
    return images;
}

// Runs the ONNX model in ONNX Runtime on the tensor file; [image][label] scores.
std::vector<std::vector<double>> onnx_runtime_scores(const std::string& model, const std::string& input) {
    const fs::path ort_dir = required_env_path("TINCEPTION_ORT_DIR");
    const CommandResult r = run_program("node", {(ort_dir / "scores.js").string(), model, input});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json out = json::parse(r.out);
    MESSAGE("onnxruntime-node " << out["version"].get<std::string>() << ", input " << out["input"].dump());
    return out["scores"].get<std::vector<std::vector<double>>>();
}

std::size_t top_of(const std::vector<double>& scores) {
    return std::size_t(std::max_element(scores.begin(), scores.end()) - scores.begin());
}

const std::vector<std::string> kLabels{"darth_vader", "elsa"};

// `tinception guess --json` on the images: [image][label], labels in model order.
std::vector<std::vector<double>> guess_scores(const std::string& model, const std::vector<std::string>& images) {
    std::vector<std::string> args{"guess", model, "--json"};
    args.insert(args.end(), images.begin(), images.end());
    const CommandResult guess = run_tinception(args);
    INFO(guess.err);
    REQUIRE(guess.exit_code == 0);
    std::vector<std::vector<double>> scores;
    for (const json& image : json::parse(guess.out)) {
        std::vector<double> row(kLabels.size());
        for (const json& s : image["scores"])
            row[std::size_t(std::find(kLabels.begin(), kLabels.end(), s["label"].get<std::string>()) - kLabels.begin())] =
                s["score"].get<double>();
        scores.push_back(row);
    }
    REQUIRE(scores.size() == images.size());
    return scores;
}

// Exports `model` with `options`, checks the file's structure, runs it in ONNX Runtime on
// `input` (the images as `tinception preprocess` wrote them) and compares with guess's scores.
void check_export_in_onnx_runtime(const std::string& model, const std::string& onnx_path,
                                  const std::vector<std::string>& options, const std::string& input,
                                  const std::vector<std::vector<double>>& expected,
                                  const std::vector<std::string>& images) {
    std::vector<std::string> export_args{"export", model, "-o", onnx_path};
    export_args.insert(export_args.end(), options.begin(), options.end());
    const CommandResult exported = run_tinception(export_args);
    INFO(exported.err);
    REQUIRE(exported.exit_code == 0);
    MESSAGE(exported.out);

    const tinception::onnx::Model parsed = tinception::onnx::read_model_file(onnx_path);
    const std::vector<std::string> problems = tinception::onnx::structural_problems(parsed);
    CHECK_MESSAGE(problems.empty(), (problems.empty() ? std::string() : problems.front()));

    const std::vector<std::vector<double>> actual = onnx_runtime_scores(onnx_path, input);
    REQUIRE(actual.size() == expected.size());
    double worst = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(images[i]);
        REQUIRE(actual[i].size() == kLabels.size());
        for (std::size_t k = 0; k < kLabels.size(); ++k) {
            // guess prints 5 decimals, so its side carries up to 5e-6 of rounding.
            CHECK(std::fabs(actual[i][k] - expected[i][k]) <= 1e-4);
            worst = std::max(worst, std::fabs(actual[i][k] - expected[i][k]));
        }
        CHECK(top_of(actual[i]) == top_of(expected[i]));
    }
    MESSAGE("largest score difference to guess: " << worst);
}

// Trains a model on the images' training folder with `options`, then checks its export with a
// dynamic batch and with a fixed one at `fixed_opset` against guess on the held-out images.
// Leaves dynamic.onnx and input.f32 in `dir`; returns guess's scores.
std::vector<std::vector<double>> train_and_check_exports(const TempDir& dir, const Images& images,
                                                         const std::string& model,
                                                         const std::vector<std::string>& options,
                                                         const std::string& fixed_opset) {
    std::vector<std::string> train_args{"train", images.data.string(), "-o", model, "--steps", "300", "--bottleneck-dir",
                                        required_env_folder_to_create("TINCEPTION_TEST_CACHE")};
    train_args.insert(train_args.end(), options.begin(), options.end());
    const CommandResult train = run_tinception(train_args);
    INFO(train.err);
    REQUIRE(train.exit_code == 0);

    const std::vector<std::vector<double>> expected = guess_scores(model, images.held_out);
    std::vector<std::string> args = {"preprocess", model, "-o", dir.file("input.f32")};
    args.insert(args.end(), images.held_out.begin(), images.held_out.end());
    REQUIRE(run_tinception(args).exit_code == 0);

    const std::string fixed_batch = std::to_string(images.held_out.size());
    for (const std::vector<std::string>& export_options :
         {std::vector<std::string>{}, {"--batch", fixed_batch, "--opset", fixed_opset}}) {
        CAPTURE(export_options.size());
        const std::string onnx_path = dir.file(export_options.empty() ? "dynamic.onnx" : "fixed.onnx");
        check_export_in_onnx_runtime(model, onnx_path, export_options, dir.file("input.f32"), expected,
                                     images.held_out);
    }
    return expected;
}

void require_onnx_runtime() {
    const fs::path ort_dir = required_env_path("TINCEPTION_ORT_DIR");
    REQUIRE_MESSAGE(fs::exists(ort_dir / "node_modules" / "onnxruntime-node"),
                    "onnxruntime-node is not installed; run tests/onnx_runtime/install.sh (tools/test.sh does)");
}

}  // namespace

TEST_CASE("ONNX Runtime runs the exported model as tinception guess does") {
    require_onnx_runtime();
    // for examples/classify_onnx.js
    ::setenv("NODE_PATH", (fs::path(required_env_path("TINCEPTION_ORT_DIR")) / "node_modules").c_str(), 1);
    TempDir dir;
    const Images images = make_images(dir);
    // The whole trunk (mixed10), so every kind of block is exported: 1x7 and 7x1, 1x3 and 3x1,
    // nested concats. Features go to the shared test cache (keyed by image content), so a
    // second run trains at once.
    const std::vector<std::vector<double>> expected =
        train_and_check_exports(dir, images, dir.file("heroes.tcm"), {"--bottleneck", "mixed10"}, "17");

    // The example prints guess's lines: same labels in the same order, scores within 1e-4.
    const CommandResult example = run_program(
        "node", {required_env_path("TINCEPTION_ONNX_EXAMPLE"), dir.file("dynamic.onnx"), dir.file("input.f32")});
    INFO(example.err);
    REQUIRE(example.exit_code == 0);
    const std::vector<std::string> lines = lines_of(example.out);
    REQUIRE(lines.size() == images.held_out.size() * (kLabels.size() + 2) - 1);
    for (std::size_t i = 0; i < images.held_out.size(); ++i) {
        CAPTURE(i);
        const std::size_t first = i * (kLabels.size() + 2);  // "image i:", the labels, a blank line
        CHECK(lines[first] == "image " + std::to_string(i) + ":");
        const std::string& top = lines[first + 1];
        const std::size_t best = top_of(expected[i]);
        CHECK(top.rfind(kLabels[best] + " (score = ", 0) == 0);
        const double printed = std::stod(top.substr(top.find("= ") + 2));
        CHECK(std::fabs(printed - expected[i][best]) <= 1e-4);
    }
}

TEST_CASE("ONNX Runtime runs an exported --tta flip model as tinception guess does") {
    require_onnx_runtime();
    TempDir dir;
    const Images images = make_images(dir);
    // guess mirrors each decoded image and averages the two probabilities; the graph mirrors
    // the preprocessed input, the same picture under this weight file's align_corners resize.
    train_and_check_exports(dir, images, dir.file("flip.tcm"), {"--bottleneck", "mixed5", "--tta", "flip"}, "21");
}
