// train --precision int8 and bf16 through the real program on a few superheroes images: the
// model keeps the ranges calibrated on its training images (int8) or says it was trained on
// bf16 features, guess and embed run that network from it (--precision fp32 overrides), and
// their bottlenecks never share cache entries with fp32 ones.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bf16/conv2d_bf16.hpp"
#include "cli_harness.hpp"
#include "small_dataset.hpp"
#include "temp_dir.hpp"

using namespace tinception::testing;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> train_args(const fs::path& data, const fs::path& model, const fs::path& cache,
                                    const std::vector<std::string>& extra) {
    std::vector<std::string> args{"train", data.string(), "-o", model.string(), "--bottleneck", "mixed5",
                                  "--bottleneck-dir", cache.string(), "--steps", "50", "--force", "--no-mirror"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

// The "bottlenecks: N computed, M from cache" line of train's output.
std::string bottleneck_line(const CommandResult& r) {
    for (const std::string& line : lines_of(r.out + r.err))
        if (line.rfind("bottlenecks: ", 0) == 0) return line;
    return "(none)";
}

}  // namespace

TEST_CASE("train --precision int8: the model runs int8, and its bottlenecks are cached apart from fp32's") {
    TempDir dir;
    const fs::path data = small_dataset(dir, 8);
    const fs::path cache = dir.path() / "cache", model = dir.path() / "int8.tcm", plain = dir.path() / "fp32.tcm";
    const std::string image = (data / "elsa").string() + "/" + fs::directory_iterator(data / "elsa")->path().filename().string();

    const CommandResult int8 = run_tinception(train_args(data, model, cache, {"--precision", "int8"}));
    INFO(int8.err);
    REQUIRE(int8.exit_code == 0);
    CHECK(contains(bottleneck_line(int8), "16 computed, 0 from cache"));
    const CommandResult info = run_tinception({"info", model.string()});
    CHECK(contains(info.out, "precision:    int8"));
    CHECK(contains(info.out, "int8, calibrated on "));  // the training record's setting

    // fp32 on the same cache computes every image again; int8 again reads them all back.
    const CommandResult fp32 = run_tinception(train_args(data, plain, cache, {}));
    REQUIRE(fp32.exit_code == 0);
    CHECK(contains(bottleneck_line(fp32), "16 computed, 0 from cache"));
    const CommandResult again = run_tinception(train_args(data, model, cache, {"--precision", "int8"}));
    REQUIRE(again.exit_code == 0);
    CHECK(contains(bottleneck_line(again), "0 computed, 16 from cache"));

    // embed with the model gives int8 features unless --precision fp32 is asked for.
    const fs::path a = dir.path() / "a.f32", b = dir.path() / "b.f32";
    const CommandResult e8 = run_tinception({"embed", model.string(), image, "-o", a.string()});
    REQUIRE(e8.exit_code == 0);
    CHECK(contains(e8.err, "(int8"));
    const CommandResult e32 = run_tinception({"embed", model.string(), image, "-o", b.string(), "--precision", "fp32"});
    REQUIRE(e32.exit_code == 0);
    CHECK(contains(e32.err, "(fp32"));
    CHECK(slurp(a.string()) != slurp(b.string()));
    const CommandResult guess = run_tinception({"guess", model.string(), image});
    CHECK(guess.exit_code == 0);
    CHECK(contains(guess.out, "(score = "));

    const CommandResult refused =
        run_tinception(train_args(data, model, cache, {"--precision", "int8", "--fine-tune-from", "mixed4"}));
    CHECK(refused.exit_code == 2);
    CHECK(contains(refused.err, "--precision int8 does not take --fine-tune-from"));
}

TEST_CASE("train --precision bf16: the model runs bf16, and its bottlenecks are cached apart from fp32's") {
    TempDir dir;
    const fs::path data = small_dataset(dir, 8);
    const fs::path cache = dir.path() / "cache", model = dir.path() / "bf16.tcm", plain = dir.path() / "fp32.tcm";
    const std::string image = (data / "elsa").string() + "/" + fs::directory_iterator(data / "elsa")->path().filename().string();
    if (!tinception::kernels::avx512_bf16_kernels()) {
        const CommandResult refused = run_tinception(train_args(data, model, cache, {"--precision", "bf16"}));
        CHECK(refused.exit_code == 2);
        CHECK(contains(refused.err, "needs a CPU with AVX-512 BF16"));
        return;
    }

    const CommandResult bf16 = run_tinception(train_args(data, model, cache, {"--precision", "bf16"}));
    INFO(bf16.err);
    REQUIRE(bf16.exit_code == 0);
    CHECK(contains(bottleneck_line(bf16), "16 computed, 0 from cache"));
    const CommandResult info = run_tinception({"info", model.string()});
    CHECK(contains(info.out, "precision:    bf16"));
    CHECK(contains(info.out, "format:       tcm version 6"));

    const CommandResult fp32 = run_tinception(train_args(data, plain, cache, {}));
    REQUIRE(fp32.exit_code == 0);
    CHECK(contains(bottleneck_line(fp32), "16 computed, 0 from cache"));
    const CommandResult again = run_tinception(train_args(data, model, cache, {"--precision", "bf16"}));
    REQUIRE(again.exit_code == 0);
    CHECK(contains(bottleneck_line(again), "0 computed, 16 from cache"));

    // embed with the model gives bf16 features unless --precision fp32 is asked for.
    const fs::path a = dir.path() / "a.f32", b = dir.path() / "b.f32";
    const CommandResult e16 = run_tinception({"embed", model.string(), image, "-o", a.string(), "--layer", "mixed5"});
    REQUIRE(e16.exit_code == 0);
    CHECK(contains(e16.err, "(bf16"));
    const CommandResult e32 =
        run_tinception({"embed", model.string(), image, "-o", b.string(), "--layer", "mixed5", "--precision", "fp32"});
    REQUIRE(e32.exit_code == 0);
    CHECK(contains(e32.err, "(fp32"));
    CHECK(slurp(a.string()) != slurp(b.string()));
    const CommandResult guess = run_tinception({"guess", model.string(), image});
    CHECK(guess.exit_code == 0);
    CHECK(contains(guess.out, "(score = "));
    CHECK_FALSE(contains(guess.err, "warning"));
}
