// Shards of a job array: every path in exactly one shard, the same shard on every run and
// whatever else is in the folder, and the --shard value with and without the environment.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "error.hpp"
#include "train/shard.hpp"

using namespace tinception;

namespace {

std::vector<std::string> synthetic_paths(int count) {
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i)
        paths.push_back("label" + std::to_string(i % 17) + "/image_" + std::to_string(i) + ".jpg");
    return paths;
}

// A fake environment for parse_shard.
std::function<const char*(const char*)> environment(const std::map<std::string, std::string>& vars) {
    return [vars](const char* name) -> const char* {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

std::string shard_error(const std::string& text, const std::map<std::string, std::string>& vars = {}) {
    try {
        parse_shard(text, environment(vars));
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("shard: every path lands in exactly one shard, and shards are near equal") {
    const std::vector<std::string> paths = synthetic_paths(20000);
    for (const std::uint32_t count : {1u, 2u, 3u, 4u, 7u, 64u}) {
        CAPTURE(count);
        std::multiset<std::string> seen;
        for (std::uint32_t index = 0; index < count; ++index) {
            const std::vector<std::string> chosen = paths_in_shard(paths, Shard{index, count});
            const double expected = double(paths.size()) / count;
            // Within 5 binomial standard deviations of the mean: a fixed hash, so no flakiness.
            CHECK(std::abs(double(chosen.size()) - expected) < 5 * std::sqrt(expected));
            for (const std::string& p : chosen) CHECK(shard_of(p, count) == index);
            seen.insert(chosen.begin(), chosen.end());
        }
        REQUIRE(seen.size() == paths.size());
        for (const std::string& p : paths) CHECK(seen.count(p) == 1);
    }
}

TEST_CASE("shard: a path's shard never depends on the other paths or their order") {
    std::vector<std::string> paths = synthetic_paths(500);
    std::map<std::string, std::uint32_t> before;
    for (const std::string& p : paths) before[p] = shard_of(p, 4);
    std::vector<std::string> more = synthetic_paths(1500);
    std::reverse(more.begin(), more.end());
    for (std::uint32_t index = 0; index < 4; ++index)
        for (const std::string& p : paths_in_shard(more, Shard{index, 4}))
            if (before.count(p)) CHECK(before[p] == index);
}

TEST_CASE("shard: values are pinned, so nodes built from other versions agree") {
    // Recorded once from this implementation; a change here moves images between shards
    // of arrays already running, so it must be deliberate.
    CHECK(shard_of("darth_vader/1.jpg", 4) == 1u);
    CHECK(shard_of("elsa/elsa_03.png", 4) == 0u);
    CHECK(shard_of("cat/a.jpg", 1000) == 411u);
    CHECK(shard_of("anything", 1) == 0u);
}

TEST_CASE("shard: images sharing a _nohash_ stem share a shard, as they share a split") {
    for (int i = 0; i < 50; ++i)
        CHECK(shard_of("cat/photo" + std::to_string(i) + "_nohash_1.jpg", 16) ==
              shard_of("cat/photo" + std::to_string(i) + "_nohash_2.jpg", 16));
}

TEST_CASE("shard: I/N and auto/N, with N never from the environment") {
    const Shard explicit_shard = parse_shard("2/4", environment({}));
    CHECK(explicit_shard.index == 2u);
    CHECK(explicit_shard.count == 4u);

    // A re-run of one task of an array sees SLURM_ARRAY_TASK_COUNT=1; N stays 4.
    const Shard rerun = parse_shard("auto/4", environment({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "1"}}));
    CHECK(rerun.index == 3u);
    CHECK(rerun.count == 4u);
    CHECK(parse_shard("auto/8", environment({{"JOB_COMPLETION_INDEX", "5"}})).index == 5u);
    CHECK(parse_shard("auto/8", environment({{"SLURM_ARRAY_TASK_ID", "1"}, {"JOB_COMPLETION_INDEX", "5"}})).index == 1u);
    CHECK(parse_shard("0/1", environment({})).count == 1u);
}

TEST_CASE("shard: bad values are refused with a message") {
    CHECK(shard_error("4/4").find("out of range") != std::string::npos);
    CHECK(shard_error("1/0").find("at least 1") != std::string::npos);
    CHECK(shard_error("-1/4").find("not a whole number") != std::string::npos);
    CHECK(shard_error("1/4x").find("not a whole number") != std::string::npos);
    CHECK(shard_error(" 1/4").find("not a whole number") != std::string::npos);
    CHECK(shard_error("a/b").find("not a whole number") != std::string::npos);
    CHECK(shard_error("3").find("I/N or auto/N") != std::string::npos);
    CHECK(shard_error("99999999999/4").find("not a whole number") != std::string::npos);
    CHECK(shard_error("auto/4").find("SLURM_ARRAY_TASK_ID") != std::string::npos);
    CHECK(shard_error("auto/4", {{"SLURM_ARRAY_TASK_ID", "4"}}).find("SLURM_ARRAY_TASK_ID 4 is out of range") !=
          std::string::npos);
    CHECK(shard_error("auto/4", {{"JOB_COMPLETION_INDEX", "x"}}).find("JOB_COMPLETION_INDEX") != std::string::npos);
}
