// `tinception bottlenecks DATA_DIR [--shard I/N]`: fills the bottleneck cache for one shard
// of a data folder, so a job array can spread the expensive step over many machines and
// `train --require-cached` then reads every feature back.
#include <cxxopts.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/decode_option.hpp"
#include "cli/commands.hpp"
#include "cli/feature_options.hpp"
#include "cli/progress.hpp"
#include "cli/thread_option.hpp"
#include "error.hpp"
#include "model/feature_extractor.hpp"
#include "train/bottleneck_cache.hpp"
#include "train/bottlenecks.hpp"
#include "train/dataset.hpp"
#include "train/shard.hpp"

namespace tinception::cli {

int run_bottlenecks(int argc, char** argv) {
    cxxopts::Options options("tinception bottlenecks",
                             "Compute and cache the bottleneck features of DATA_DIR's images (those of one shard with\n"
                             "--shard), for a later 'tinception train --require-cached' with the same cache folder.");
    options.positional_help("DATA_DIR [--shard I/N]");
    options.add_options()
        ("shard", "compute only shard I of N (0 <= I < N), chosen by a stable hash of each image's path inside "
                  "DATA_DIR; auto/N takes I from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX",
         cxxopts::value<std::string>()->default_value("0/1"))
        ("dry-run", "list the shard's images (paths inside DATA_DIR), compute nothing")
        ("mirror", "also each image mirrored left-right, as train reads them by default (and with --tta flip); "
                   "on unless --no-mirror")
        ("no-mirror", "only the images as they are, for train --no-mirror or --fine-tune-from")
        ("h,help", "show this help")
        ("data_dir", "", cxxopts::value<std::string>());
    options.parse_positional({"data_dir"});
    add_feature_options(options);
    add_threads_option(options);
    const auto args = options.parse(argc, argv);
    if (args.count("help")) {
        std::cout << options.help({""});
        return kExitOk;
    }
    if (!args.count("data_dir")) throw Error("bottlenecks needs DATA_DIR (see 'tinception bottlenecks --help')");
    apply_threads_option(args);
    const Shard shard = parse_shard(args["shard"].as<std::string>());
    const std::string shard_name = std::to_string(shard.index) + "/" + std::to_string(shard.count);

    // Every image train would use, whatever its split: no percentages, so no moves.
    const Dataset data = scan_dataset(args["data_dir"].as<std::string>(), SplitOptions{0.0, 0.0});
    for (const std::string& w : data.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    std::vector<std::string> all;
    for (const CategoryImages& c : data.categories) all.insert(all.end(), c.training.begin(), c.training.end());
    const std::vector<std::string> chosen = paths_in_shard(all, shard);
    if (args.count("dry-run")) {
        for (const std::string& path : chosen) std::printf("%s\n", path.c_str());
        std::printf("shard %s: %zu of %zu images\n", shard_name.c_str(), chosen.size(), all.size());
        return kExitOk;
    }

    const std::string cache_dir = cache_dir_option(args);
    const BottleneckCache cache(cache_dir);
    FeatureExtractor extractor(weights_path_option(args), args["bottleneck"].as<std::string>());
    std::vector<std::string> full;
    for (const std::string& path : chosen) full.push_back(data.full_path(path));

    const auto start = std::chrono::steady_clock::now();
    const bool mirror = mirror_option(args, true);
    Progress progress("shard " + shard_name, full.size() * (mirror ? 2 : 1), "images");
    std::size_t reported = 0, done_before = 0;
    const auto pass = [&](bool mirrored) {
        BottleneckBatch batch = compute_bottlenecks(extractor, &cache, full, [&](std::size_t done) {
            progress.advance(done_before + done - reported);
            reported = done_before + done;
        }, BottleneckMode::compute_misses, decode_limits(extractor.preprocessing(), decode_mode_option(args)), mirrored);
        done_before += full.size();
        return batch;
    };
    BottleneckBatch result = pass(false);
    if (mirror) {
        const BottleneckBatch mirrors = pass(true);
        result.computed += mirrors.computed;
        result.from_cache += mirrors.from_cache;
    }
    progress.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::size_t failed = 0;
    for (const std::string& error : result.errors)
        if (!error.empty()) {
            std::fprintf(stderr, "failed: %s\n", error.c_str());
            ++failed;
        }
    std::printf("shard %s: %zu of %zu images, %zu computed, %zu from cache, %zu failed, in %.1f s (cache %s)\n",
                shard_name.c_str(), chosen.size(), all.size(), result.computed, result.from_cache, failed, seconds,
                cache_dir.c_str());
    return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace tinception::cli
