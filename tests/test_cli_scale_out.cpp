// The scale-out commands through the program, without weights: `bottlenecks --dry-run`
// and its refusals, `cache verify|stats|merge|prune` on small synthetic caches, and
// `train --require-cached` refusing --no-cache.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "cli_harness.hpp"
#include "file_io.hpp"
#include "temp_dir.hpp"
#include "train/bottleneck_cache.hpp"

using namespace tinception;
using namespace tinception::testing;
namespace fs = std::filesystem;

namespace {

void make_data(const fs::path& root, int per_category) {
    for (const char* label : {"cats", "dogs"})
        for (int i = 0; i < per_category; ++i) {
            fs::create_directories(root / label);
            // A JPEG's signature: the scan tells images by their first bytes and decodes nothing.
            std::ofstream(root / label / ("img" + std::to_string(i) + ".jpg")) << "\xFF\xD8\xFF" << label << i;
        }
}

BottleneckKey key_of(std::uint64_t content) { return BottleneckKey{content, "mixed5", 0xa6b91f05, 3, ""}; }

}  // namespace

TEST_CASE("bottlenecks --dry-run: the shards of a folder cover it once") {
    TempDir dir;
    make_data(dir.path() / "data", 30);
    std::size_t listed = 0;
    for (int i = 0; i < 3; ++i) {
        const CommandResult r =
            run_tinception({"bottlenecks", dir.file("data"), "--shard", std::to_string(i) + "/3", "--dry-run"});
        REQUIRE(r.exit_code == 0);
        const auto lines = lines_of(r.out);
        REQUIRE(!lines.empty());
        CHECK(lines.back().find("of 60 images") != std::string::npos);
        listed += lines.size() - 1;
    }
    CHECK(listed == 60);
}

TEST_CASE("bottlenecks: bad shards and folders are refused with exit 2") {
    TempDir dir;
    make_data(dir.path() / "data", 3);
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"bottlenecks"},
             {"bottlenecks", dir.file("data"), "--shard", "3/3", "--dry-run"},
             {"bottlenecks", dir.file("data"), "--shard", "auto/3", "--dry-run"},
             {"bottlenecks", dir.file("data"), "--shard", "1", "--dry-run"},
             {"bottlenecks", dir.file("missing"), "--dry-run"},
             {"cache"},
             {"cache", "shrink"},
             {"cache", "merge", dir.file("only-one")},
             {"cache", "prune", dir.file("c")},
             {"cache", "prune", dir.file("c"), "--weights-checksum", "xyz"},
             {"train", dir.file("data"), "-o", dir.file("m.tcm"), "--require-cached", "--no-cache"},
         }) {
        CAPTURE(args.size() > 1 ? args[1] : args[0]);
        const CommandResult r = run_tinception(args);
        CHECK(r.exit_code == 2);
        CHECK(r.err.rfind("tinception: error: ", 0) != std::string::npos);
    }
}

TEST_CASE("cache verify, stats, merge and prune through the program") {
    TempDir dir;
    const BottleneckCache a(dir.file("a")), b(dir.file("b"));
    for (std::uint64_t c = 0; c < 6; ++c) a.store(key_of(c), {1.0f, 2.0f, float(c)});
    for (std::uint64_t c = 4; c < 9; ++c) b.store(key_of(c), {1.0f, 2.0f, float(c)});

    CommandResult r = run_tinception({"cache", "stats", dir.file("a")});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("6 entries") != std::string::npos);
    CHECK(r.out.find("layer mixed5, weights a6b91f05, 3 floats: 6 entries") != std::string::npos);

    r = run_tinception({"cache", "merge", dir.file("a"), dir.file("b"), dir.file("m")});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("9 copied, 2 already there") != std::string::npos);
    r = run_tinception({"cache", "verify", dir.file("m")});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("9 good entries, 0 damaged") != std::string::npos);

    std::vector<std::uint8_t> bytes = read_file_bytes(b.entry_path(key_of(8)));
    bytes.back() ^= 1;
    std::ofstream(b.entry_path(key_of(8)), std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    r = run_tinception({"cache", "verify", dir.file("b")});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("4 good entries, 1 damaged") != std::string::npos);
    CHECK(r.err.find(b.entry_path(key_of(8))) != std::string::npos);
    r = run_tinception({"cache", "merge", dir.file("b"), dir.file("m2")});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("4 copied") != std::string::npos);
    CHECK(r.out.find("1 damaged refused") != std::string::npos);

    r = run_tinception({"cache", "prune", dir.file("m"), "--weights-checksum", "A6B91F05", "--dry-run"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("would remove 9 entries") != std::string::npos);
    r = run_tinception({"cache", "prune", dir.file("b"), "--damaged"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("removed 1 entries") != std::string::npos);
    CHECK(run_tinception({"cache", "verify", dir.file("b")}).exit_code == 0);
}
