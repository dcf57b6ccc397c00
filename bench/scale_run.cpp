// The scale-out figures: shard planning over 1,000,000 synthetic paths, a merge of 100,000
// synthetic cache entries, and `tinception train --require-cached` on 100,000 synthetic
// 768-float rows (wall time and the child's peak RSS). One-shot timings, not Google
// Benchmark: each step is seconds to minutes of file work at this size.
//   scale_run TINCEPTION_EXE WEIGHTS WORK_DIR [paths entries rows]
// WORK_DIR must not exist; it is removed at the end. Results are in bench/README.md.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "file_io.hpp"
#include "train/bottleneck_cache.hpp"
#include "train/cache_maintenance.hpp"
#include "train/shard.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;
namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "scale_run: %s\n", what.c_str());
    std::exit(1);
}

void plan_shards(std::size_t count) {
    std::vector<std::string> paths;
    paths.reserve(count);
    for (std::size_t i = 0; i < count; ++i)
        paths.push_back("class" + std::to_string(i % 1000) + "/image_" + std::to_string(i) + ".jpg");
    for (const std::uint32_t shards : {16u, 64u, 1024u}) {
        // What the whole array decides: every path's shard, then a check that the per-node
        // lists (paths_in_shard, what one task computes) cover each path exactly once.
        auto start = std::chrono::steady_clock::now();
        std::vector<std::size_t> per_shard(shards, 0);
        for (const std::string& p : paths) ++per_shard[shard_of(p, shards)];
        const double plan_s = seconds_since(start);
        start = std::chrono::steady_clock::now();
        const std::vector<std::string> one = paths_in_shard(paths, Shard{shards / 2, shards});
        const double node_s = seconds_since(start);
        std::size_t total = 0, smallest = count, largest = 0;
        for (const std::size_t n : per_shard) {
            total += n;
            smallest = std::min(smallest, n);
            largest = std::max(largest, n);
        }
        if (total != count || one.size() != per_shard[shards / 2]) fail("shard plan does not cover every path once");
        std::vector<std::uint8_t> seen(count, 0);
        if (shards == 16) {  // the exact cover check, list by list
            for (std::uint32_t s = 0; s < shards; ++s)
                for (const std::string& p : paths_in_shard(paths, Shard{s, shards})) {
                    const std::size_t i = std::stoul(p.substr(p.find('_') + 1));
                    if (seen[i]++) fail("a path is in two shards: " + p);
                }
            for (const std::uint8_t s : seen)
                if (s != 1) fail("a path is in no shard");
        }
        std::printf("plan %zu paths into %u shards: %.3f s (one node's list: %.3f s); shard sizes %zu..%zu%s\n", count,
                    shards, plan_s, node_s, smallest, largest, shards == 16 ? "; every path in exactly one list" : "");
    }
}

std::vector<float> synthetic_row(std::mt19937& rng, int label, int size) {
    std::normal_distribution<float> noise(0.0f, 1.0f);
    std::vector<float> row(static_cast<std::size_t>(size));
    for (int k = 0; k < size; ++k) row[std::size_t(k)] = noise(rng) + (k % 10 == label ? 2.0f : 0.0f);
    return row;
}

// Test data, not a measured step: an entry file written as BottleneckCache::store would,
// without its fsync, so making 100,000 of them takes seconds.
void write_entry(const BottleneckCache& cache, const BottleneckKey& key, const std::vector<float>& row) {
    const std::vector<std::uint8_t> bytes = encode_bottleneck_entry(key, row);
    const fs::path path = cache.entry_path(key);
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (!out) fail(path.string() + ": cannot write");
}

void merge_entries(const fs::path& work, std::size_t count) {
    std::mt19937 rng(1);
    constexpr int kSources = 4;
    std::vector<std::string> sources;
    auto start = std::chrono::steady_clock::now();
    for (int s = 0; s < kSources; ++s) {
        sources.push_back((work / ("node" + std::to_string(s))).string());
        const BottleneckCache cache(sources.back());
        for (std::size_t i = std::size_t(s); i < count; i += kSources) {
            BottleneckKey key{std::uint64_t(i) * 0x9E3779B97F4A7C15ULL, "mixed5", 0x1234abcd, 768, ""};
            write_entry(cache, key, synthetic_row(rng, int(i % 10), 768));
        }
    }
    sync_file_system(work.string());
    std::printf("made %zu synthetic entries in %d node caches: %.1f s\n", count, kSources, seconds_since(start));
    start = std::chrono::steady_clock::now();
    const MergeResult merged = merge_caches(sources, (work / "merged").string());
    const double merge_s = seconds_since(start);
    if (merged.copied != count || !merged.damaged.empty()) fail("merge did not copy every entry");
    std::printf("cache merge of %zu entries from %d folders (check, atomic copy, read back): %.1f s, %.0f entries/s\n",
                count, kSources, merge_s, double(count) / merge_s);
    start = std::chrono::steady_clock::now();
    const CacheReport report = scan_cache((work / "merged").string());
    if (report.entries != count || !report.damaged.empty()) fail("the merged cache does not verify");
    std::printf("cache verify of %zu entries: %.1f s, %.0f entries/s\n", count, seconds_since(start),
                double(count) / seconds_since(start));
    for (const std::string& s : sources) fs::remove_all(s);
    fs::remove_all(work / "merged");
}

void train_from_cache(const std::string& exe, const std::string& weights, const fs::path& work, std::size_t rows) {
    const std::uint32_t checksum = WeightFile::open(weights).checksum();
    const fs::path data = work / "data", cache_dir = work / "cache";
    const BottleneckCache cache(cache_dir.string());
    std::mt19937 rng(2);
    for (std::size_t i = 0; i < rows; ++i) {
        const int label = int(i % 10);
        const fs::path file = data / ("class" + std::to_string(label)) / ("image_" + std::to_string(i) + ".jpg");
        fs::create_directories(file.parent_path());
        const std::string bytes = "synthetic image " + std::to_string(i);  // never decoded: every row is cached
        std::ofstream(file, std::ios::binary) << bytes;
        BottleneckKey key{image_content_hash(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                          "mixed5", checksum, 768, ""};
        write_entry(cache, key, synthetic_row(rng, label, 768));
    }
    sync_file_system(work.string());
    const std::vector<std::string> args = {exe, "train", data.string(), "-o", (work / "model.tcm").string(),
                                           "--require-cached", "--bottleneck-dir", cache_dir.string(),
                                           "--weights", weights, "--steps", "500"};
    std::fflush(stdout);  // or the child flushes our buffered lines again
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) fail("fork failed");
    if (pid == 0) {
        if (!std::freopen((work / "train.out").c_str(), "w", stdout) ||
            !std::freopen((work / "train.err").c_str(), "w", stderr))
            ::_exit(127);
        std::vector<char*> argv;
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(exe.c_str(), argv.data());
        ::_exit(127);
    }
    int status = 0;
    struct rusage usage {};
    ::wait4(pid, &status, 0, &usage);
    const double seconds = seconds_since(start);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("train --require-cached failed; see " + (work / "train.out").string());
    const double raw_mb = double(rows) * 768 * 4 / 1e6, peak_mb = double(usage.ru_maxrss) * 1024 / 1e6;
    std::printf("train --require-cached on %zu rows of 768 floats (%.1f MB raw), 500 steps: %.1f s, peak RSS %.1f MB "
                "= %.2f x raw (limit 1.3 x raw + 200 MB = %.1f MB)\n",
                rows, raw_mb, seconds, peak_mb, peak_mb / raw_mb, 1.3 * raw_mb + 200);
    std::ifstream out(work / "train.out");
    for (std::string line; std::getline(out, line);)
        if (line.rfind("bottlenecks:", 0) == 0 || line.rfind("peak memory", 0) == 0) std::printf("  %s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4 && argc != 7) {
        std::fprintf(stderr, "usage: scale_run TINCEPTION_EXE WEIGHTS WORK_DIR [paths entries rows]\n");
        return 2;
    }
    const fs::path work = argv[3];
    if (fs::exists(work)) fail(work.string() + " exists; give a new folder");
    fs::create_directories(work);
    const std::size_t paths = argc == 7 ? std::stoul(argv[4]) : 1'000'000;
    const std::size_t entries = argc == 7 ? std::stoul(argv[5]) : 100'000;
    const std::size_t rows = argc == 7 ? std::stoul(argv[6]) : 100'000;
    try {
        plan_shards(paths);
        merge_entries(work, entries);
        train_from_cache(argv[1], argv[2], work, rows);
    } catch (const std::exception& e) {
        fail(e.what());
    }
    fs::remove_all(work);
    return 0;
}
