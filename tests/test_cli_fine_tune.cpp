// train --fine-tune-from through the real program on a few superheroes images, with the
// default layer set (mixed5 frozen, mixed7 tuned after mixed6), mirrors and cross-validation:
// the model carries the tuned layers and guess and embed run them, the same model for 1 and 2
// threads, and fine-tuning options refused before any work when they cannot apply.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "cli_harness.hpp"
#include "small_dataset.hpp"
#include "temp_dir.hpp"

using namespace tinception::testing;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> fine_tune_args(const fs::path& data, const fs::path& model, const fs::path& cache,
                                        const char* threads) {
    return {"train", data.string(), "-o", model.string(), "--bottleneck-dir", cache.string(), "--steps", "100",
            "--mirror", "--fine-tune-from", "mixed6", "--fine-tune-steps", "3", "--fine-tune-batch-size", "4",
            "--fine-tune-eval-interval", "1", "--cross-validate", "2", "--threads", threads};
}

}  // namespace

TEST_CASE("train --fine-tune-from: the model carries the tuned layers, guess runs them, any thread count") {
    TempDir dir;
    const fs::path data = small_dataset(dir, 12);
    const fs::path cache = dir.path() / "cache";
    const CommandResult one = run_tinception(fine_tune_args(data, dir.path() / "one.tcm", cache, "1"));
    INFO(one.out);
    INFO(one.err);
    REQUIRE(one.exit_code == 0);
    CHECK(one.out.find("fine-tuning step 3/3: ") != std::string::npos);
    CHECK(one.out.find("fine-tuned the layers after mixed6 up to mixed3,mixed5,mixed7: 3 steps") != std::string::npos);
    CHECK(one.out.find("2-fold cross-validated accuracy = ") != std::string::npos);  // of fine-tuning
    const CommandResult two = run_tinception(fine_tune_args(data, dir.path() / "two.tcm", cache, "2"));
    REQUIRE(two.exit_code == 0);
    CHECK(slurp((dir.path() / "one.tcm").string()) == slurp((dir.path() / "two.tcm").string()));

    CHECK(one.out.find("\nmirrors: ") != std::string::npos);  // asked for

    // Mirrors are off by default with fine-tuning, where cross-validation found them worse.
    auto unmirrored = fine_tune_args(data, dir.path() / "unmirrored.tcm", cache, "2");
    unmirrored.erase(std::find(unmirrored.begin(), unmirrored.end(), "--mirror"));
    unmirrored.erase(std::find(unmirrored.begin(), unmirrored.end(), "--cross-validate"), unmirrored.end() - 2);
    const CommandResult plain = run_tinception(unmirrored);
    INFO(plain.err);
    REQUIRE(plain.exit_code == 0);
    CHECK(plain.out.find("fine-tuned the layers after mixed6") != std::string::npos);
    CHECK(plain.out.find("\nmirrors: ") == std::string::npos);

    const CommandResult info = run_tinception({"info", (dir.path() / "one.tcm").string()});
    CHECK(info.out.find("fine-tuned:   up to mixed3,mixed5,mixed7 (10 convolutions, after mixed6)") != std::string::npos);

    // without fine-tuning the model holds no tuned layers and scores the image otherwise
    auto frozen = fine_tune_args(data, dir.path() / "frozen.tcm", cache, "2");
    frozen.resize(9);  // up to --mirror
    REQUIRE(run_tinception(frozen).exit_code == 0);
    CHECK(run_tinception({"info", (dir.path() / "frozen.tcm").string()}).out.find("fine-tuned:") == std::string::npos);
    const std::string image = (data / "elsa" / fs::directory_iterator(data / "elsa")->path().filename()).string();
    const CommandResult tuned_guess = run_tinception({"guess", (dir.path() / "one.tcm").string(), image});
    const CommandResult frozen_guess = run_tinception({"guess", (dir.path() / "frozen.tcm").string(), image});
    REQUIRE(tuned_guess.exit_code == 0);
    REQUIRE(frozen_guess.exit_code == 0);
    CHECK(tuned_guess.out.find(" (score = ") != std::string::npos);
    CHECK(tuned_guess.out != frozen_guess.out);

    // embed MODEL gives the model's own features, standardised: the file's for the frozen
    // model, the tuned layers' for the other; --layer names them raw
    const auto embed = [&](const std::string& source, std::vector<std::string> more = {}) {
        std::vector<std::string> args = {"embed", source, image, "--csv"};
        args.insert(args.end(), more.begin(), more.end());
        const CommandResult r = run_tinception(args);
        CHECK(r.exit_code == 0);
        std::vector<double> values;
        std::istringstream row(r.out.substr(r.out.find(',') + 1));
        for (std::string v; std::getline(row, v, ',');) values.push_back(std::stod(v));
        return values;
    };
    const std::string weights = required_env_path("TINCEPTION_WEIGHTS");
    const std::vector<double> file_features = embed(weights, {"--layer", "mixed3,mixed5,mixed7"});
    const std::vector<double> frozen_raw = embed((dir.path() / "frozen.tcm").string(), {"--layer", "mixed3"});
    const std::vector<double> frozen_features = embed((dir.path() / "frozen.tcm").string());
    const std::vector<double> tuned_features = embed((dir.path() / "one.tcm").string());
    REQUIRE(file_features.size() == 2304);  // 768 x 3
    REQUIRE(frozen_features.size() == 2304);
    REQUIRE(tuned_features.size() == 2304);
    CHECK(std::equal(frozen_raw.begin(), frozen_raw.end(), file_features.begin()));  // another layer: raw
    CHECK(frozen_raw.size() == 768);
    // standardised by the training images: about zero mean and unit spread over them, so
    // no longer the raw values (which are all >= 0, after ReLU)
    CHECK(frozen_features != file_features);
    CHECK(std::any_of(frozen_features.begin(), frozen_features.end(), [](double v) { return v < 0; }));
    // the tuned model's mixed3 and mixed5 parts are the frozen network's, standardised alike;
    // mixed7 moved
    CHECK(std::equal(tuned_features.begin(), tuned_features.begin() + 1536, frozen_features.begin()));
    CHECK(!std::equal(tuned_features.begin() + 1536, tuned_features.end(), frozen_features.begin() + 1536));
}

TEST_CASE("train refuses fine-tuning options that cannot apply, before computing anything") {
    TempDir dir;
    const fs::path data = small_dataset(dir, 12);
    const CommandResult lone = run_tinception({"train", data.string(), "-o", (dir.path() / "m.tcm").string(),
                                               "--fine-tune-steps", "5"});
    CHECK(lone.exit_code == 2);
    CHECK(lone.err.find("--fine-tune-steps needs --fine-tune-from LAYER") != std::string::npos);
    const CommandResult above = run_tinception({"train", data.string(), "-o", (dir.path() / "m.tcm").string(),
                                                "--fine-tune-from", "mixed7"});
    CHECK(above.exit_code == 2);
    CHECK(above.err.find("every layer of 'mixed3,mixed5,mixed7' is 'mixed7' or comes before it") !=
          std::string::npos);
    const CommandResult flip = run_tinception({"train", data.string(), "-o", (dir.path() / "m.tcm").string(),
                                               "--fine-tune-from", "mixed6", "--tta", "flip"});
    CHECK(flip.exit_code == 2);
    CHECK(flip.err.find("--fine-tune-from does not take --tta flip") != std::string::npos);
    CHECK(flip.out.find("bottlenecks:") == std::string::npos);
    CHECK(above.out.find("bottlenecks:") == std::string::npos);
    CHECK_FALSE(fs::exists(dir.path() / "m.tcm"));
}
