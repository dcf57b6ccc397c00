// train --precision int8 and bf16 through the real program on a few superheroes images: the
// model keeps the ranges calibrated on its training images (int8) or says it was trained on
// bf16 features, guess and embed run that network from it (--precision fp32 overrides), and
// their bottlenecks never share cache entries with fp32 ones.
#include <doctest/doctest.h>

#include <cstdlib>
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

// A few superheroes images per category, and where a model, its fp32 twin and their
// bottleneck cache go.
struct Run {
    TempDir dir;
    fs::path data = small_dataset(dir, 8);
    fs::path cache = dir.path() / "cache", model = dir.path() / "model.tcm", plain = dir.path() / "fp32.tcm";
    std::string image = (data / "elsa").string() + "/" + fs::directory_iterator(data / "elsa")->path().filename().string();
};

// Trains run.model in `precision`: every bottleneck computed and `info` naming the precision;
// fp32 on the same cache computes them all again, and `precision` again reads them all back.
void check_trained_apart_from_fp32(const Run& run, const std::string& precision) {
    const CommandResult first = run_tinception(train_args(run.data, run.model, run.cache, {"--precision", precision}));
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    CHECK(contains(bottleneck_line(first), "16 computed, 0 from cache"));
    const CommandResult info = run_tinception({"info", run.model.string()});
    CHECK(contains(info.out, "precision:    " + precision));
    CHECK(contains(info.out, "format:       tcm version 6"));

    const CommandResult fp32 = run_tinception(train_args(run.data, run.plain, run.cache, {}));
    REQUIRE(fp32.exit_code == 0);
    CHECK(contains(bottleneck_line(fp32), "16 computed, 0 from cache"));
    const CommandResult again = run_tinception(train_args(run.data, run.model, run.cache, {"--precision", precision}));
    REQUIRE(again.exit_code == 0);
    CHECK(contains(bottleneck_line(again), "0 computed, 16 from cache"));
}

// embed with the model gives `precision`'s features unless --precision fp32 is asked for, and
// guess runs it without a warning.
void check_model_runs_in(const Run& run, const std::string& precision) {
    const fs::path a = run.dir.path() / "a.f32", b = run.dir.path() / "b.f32";
    const CommandResult own = run_tinception({"embed", run.model.string(), run.image, "-o", a.string()});
    REQUIRE(own.exit_code == 0);
    CHECK(contains(own.err, "(" + precision));
    const CommandResult fp32 =
        run_tinception({"embed", run.model.string(), run.image, "-o", b.string(), "--precision", "fp32"});
    REQUIRE(fp32.exit_code == 0);
    CHECK(contains(fp32.err, "(fp32"));
    CHECK(slurp(a.string()) != slurp(b.string()));
    const CommandResult guess = run_tinception({"guess", run.model.string(), run.image});
    CHECK(guess.exit_code == 0);
    CHECK(contains(guess.out, "(score = "));
    CHECK_FALSE(contains(guess.err, "warning"));
}

}  // namespace

TEST_CASE("train --precision int8: the model runs int8, and its bottlenecks are cached apart from fp32's") {
    const Run run;
    check_trained_apart_from_fp32(run, "int8");
    const CommandResult info = run_tinception({"info", run.model.string()});
    CHECK(contains(info.out, "int8, calibrated on "));  // the training record's setting
    check_model_runs_in(run, "int8");

    const CommandResult refused =
        run_tinception(train_args(run.data, run.model, run.cache, {"--precision", "int8", "--fine-tune-from", "mixed4"}));
    CHECK(refused.exit_code == 2);
    CHECK(contains(refused.err, "--precision int8 does not take --fine-tune-from"));
}

TEST_CASE("train --precision bf16: the model runs bf16, and its bottlenecks are cached apart from fp32's") {
    const Run run;
    if (!tinception::kernels::avx512_bf16_kernels()) {
        const CommandResult refused = run_tinception(train_args(run.data, run.model, run.cache, {"--precision", "bf16"}));
        CHECK(refused.exit_code == 2);
        CHECK(contains(refused.err, "needs a CPU with AVX-512 BF16"));
        return;
    }
    check_trained_apart_from_fp32(run, "bf16");
    check_model_runs_in(run, "bf16");

    // guess maps the bf16 network's packed weights from a cache file of their own, written by
    // the first run: the same scores either way.
    const fs::path home = run.dir.path() / "home";
    const std::string old_home = std::getenv("XDG_CACHE_HOME") ? std::getenv("XDG_CACHE_HOME") : "";
    ::setenv("XDG_CACHE_HOME", home.c_str(), 1);
    const CommandResult first = run_tinception({"guess", run.model.string(), run.image});
    const CommandResult second = run_tinception({"guess", run.model.string(), run.image});
    old_home.empty() ? ::unsetenv("XDG_CACHE_HOME") : ::setenv("XDG_CACHE_HOME", old_home.c_str(), 1);
    REQUIRE(first.exit_code == 0);
    CHECK(second.out == first.out);
    int bf16_files = 0;
    for (const auto& entry : fs::directory_iterator(home / "tinception" / "packed"))
        bf16_files += entry.path().filename().string().find("avx512_bf16") != std::string::npos;
    CHECK(bf16_files == 1);
}
