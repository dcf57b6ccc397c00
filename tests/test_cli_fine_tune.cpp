// train --fine-tune-from through the real program on a few superheroes images: the model
// carries the tuned layers and guess and embed run them, the same model for 1 and 2 threads, and
// fine-tuning options refused before any work when they cannot apply.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "cli_harness.hpp"
#include "temp_dir.hpp"

using namespace tinception::testing;
namespace fs = std::filesystem;

namespace {

// The first `per_category` images of each superheroes category.
fs::path small_dataset(const TempDir& dir, std::size_t per_category) {
    const fs::path source = required_env_path("TINCEPTION_SUPERHEROES");
    const fs::path data = dir.path() / "data";
    for (const char* category : {"darth_vader", "elsa"}) {
        fs::create_directories(data / category);
        std::vector<fs::path> images;
        for (const auto& e : fs::directory_iterator(source / category))
            if (e.path().extension() == ".jpg") images.push_back(e.path());
        std::sort(images.begin(), images.end());
        REQUIRE(images.size() >= per_category);
        for (std::size_t i = 0; i < per_category; ++i) fs::copy_file(images[i], data / category / images[i].filename());
    }
    return data;
}

std::vector<std::string> fine_tune_args(const fs::path& data, const fs::path& model, const fs::path& cache,
                                        const char* threads) {
    return {"train", data.string(), "-o", model.string(), "--bottleneck-dir", cache.string(), "--steps", "100",
            "--fine-tune-from", "mixed4", "--fine-tune-steps", "3", "--fine-tune-batch-size", "4",
            "--fine-tune-eval-interval", "1", "--threads", threads};
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
    CHECK(one.out.find("fine-tuned the layers after mixed4 up to mixed5: 3 steps") != std::string::npos);
    const CommandResult two = run_tinception(fine_tune_args(data, dir.path() / "two.tcm", cache, "2"));
    REQUIRE(two.exit_code == 0);
    CHECK(slurp((dir.path() / "one.tcm").string()) == slurp((dir.path() / "two.tcm").string()));

    const CommandResult info = run_tinception({"info", (dir.path() / "one.tcm").string()});
    CHECK(info.out.find("fine-tuned:   up to mixed5 (10 convolutions, after mixed4)") != std::string::npos);

    // without fine-tuning the model holds no tuned layers and scores the image otherwise
    auto frozen = fine_tune_args(data, dir.path() / "frozen.tcm", cache, "2");
    frozen.resize(8);
    frozen.insert(frozen.end(), {"--bottleneck", "mixed5"});  // the layer the tuned model ends at
    REQUIRE(run_tinception(frozen).exit_code == 0);
    CHECK(run_tinception({"info", (dir.path() / "frozen.tcm").string()}).out.find("fine-tuned:") == std::string::npos);
    const std::string image = (data / "elsa" / fs::directory_iterator(data / "elsa")->path().filename()).string();
    const CommandResult tuned_guess = run_tinception({"guess", (dir.path() / "one.tcm").string(), image});
    const CommandResult frozen_guess = run_tinception({"guess", (dir.path() / "frozen.tcm").string(), image});
    REQUIRE(tuned_guess.exit_code == 0);
    REQUIRE(frozen_guess.exit_code == 0);
    CHECK(tuned_guess.out.find(" (score = ") != std::string::npos);
    CHECK(tuned_guess.out != frozen_guess.out);

    // embed MODEL gives the model's own features: the file's for the frozen model, the tuned
    // layers' for the other
    const auto embed = [&](const std::string& source) {
        const CommandResult r = run_tinception({"embed", source, image, "--csv"});
        CHECK(r.exit_code == 0);
        return r.out.substr(r.out.find(','));
    };
    const std::string weights = required_env_path("TINCEPTION_WEIGHTS");
    const CommandResult file_features = run_tinception({"embed", weights, image, "--csv", "--layer", "mixed5"});
    CHECK(embed((dir.path() / "frozen.tcm").string()) == file_features.out.substr(file_features.out.find(',')));
    CHECK(embed((dir.path() / "one.tcm").string()) != embed((dir.path() / "frozen.tcm").string()));
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
    CHECK(above.err.find("'mixed5' does not follow 'mixed7'") != std::string::npos);
    CHECK(above.out.find("bottlenecks:") == std::string::npos);
    CHECK_FALSE(fs::exists(dir.path() / "m.tcm"));
}
