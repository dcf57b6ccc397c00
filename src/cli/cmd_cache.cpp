// `tinception cache merge|verify|stats|prune`: looking after bottleneck cache folders, such
// as the ones the tasks of a job array fill on machines without a shared file system.
#include <cxxopts.hpp>
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/cli_paths.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "error.hpp"
#include "train/cache_maintenance.hpp"

namespace tinception::cli {
namespace {

constexpr const char* kUsage =
    "Usage: tinception cache SUBCOMMAND [OPTIONS...]\n\n"
    "  merge SRC... DEST   copy every good entry of the SRC cache folders into DEST, checking each copy\n"
    "  verify [DIR]        check every entry; exit 1 when any is damaged\n"
    "  stats [DIR]         entries and bytes, by layer and weights checksum\n"
    "  prune [DIR] ...     remove entries by weights checksum, age or damage (see 'cache prune --help')\n\n"
    "DIR defaults to ~/.cache/tinception/bottlenecks, train's default.\n";

std::string megabytes(std::uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MB", double(bytes) / 1e6);
    return text;
}

std::string hex32(std::uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "%08x", value);
    return text;
}

// Folders named on the command line after the subcommand; `--help` prints `help`.
struct Parsed {
    std::vector<std::string> folders;
    cxxopts::ParseResult args;
};

Parsed parse(cxxopts::Options& options, int argc, char** argv) {
    options.add_options()("h,help", "show this help")("folders", "", cxxopts::value<std::vector<std::string>>());
    options.parse_positional({"folders"});
    Parsed p{{}, options.parse(argc, argv)};
    if (p.args.count("folders")) p.folders = p.args["folders"].as<std::vector<std::string>>();
    return p;
}

std::string one_folder(const Parsed& p, const char* command) {
    if (p.folders.size() > 1) throw Error(std::string("cache ") + command + " takes one cache folder");
    return p.folders.empty() ? default_bottleneck_dir() : p.folders[0];
}

// A progress bar for caches big enough to take a while (thousands of entries per second).
std::function<void(std::size_t, std::size_t)> progress_of(std::unique_ptr<Progress>& bar, const char* what) {
    constexpr std::size_t kShownFrom = 10000;
    return [&bar, what, reported = std::size_t(0)](std::size_t done, std::size_t total) mutable {
        if (total < kShownFrom) return;
        if (!bar) bar = std::make_unique<Progress>(what, total, "entries");
        bar->advance(done - reported);
        reported = done;
    };
}

int run_merge(int argc, char** argv) {
    cxxopts::Options options("tinception cache merge",
                             "Copy every good entry of the SRC cache folders into DEST (created if needed), in the\n"
                             "sub-folder layout, reading each copy back. Damaged entries are reported, not copied.\n"
                             "An older flat cache merged into a new folder is migrated.");
    options.positional_help("SRC... DEST");
    const Parsed p = parse(options, argc, argv);
    if (p.args.count("help")) {
        std::cout << options.help({""});
        return kExitOk;
    }
    if (p.folders.size() < 2) throw Error("cache merge needs at least one SRC and a DEST folder");
    const std::vector<std::string> sources(p.folders.begin(), p.folders.end() - 1);
    std::unique_ptr<Progress> bar;
    const MergeResult r = merge_caches(sources, p.folders.back(), progress_of(bar, "merge"));
    if (bar) bar->finish();
    for (const std::string& d : r.damaged) std::fprintf(stderr, "damaged, not copied: %s\n", d.c_str());
    std::printf("merged %zu folder(s) into %s: %zu copied, %zu already there, %zu kept (destination differs), "
                "%zu damaged replaced, %zu damaged refused\n",
                sources.size(), p.folders.back().c_str(), r.copied, r.already_present, r.kept_different,
                r.replaced_damaged, r.damaged.size());
    return r.damaged.empty() ? kExitOk : kExitFailure;
}

int run_verify_or_stats(int argc, char** argv, bool stats) {
    cxxopts::Options options(stats ? "tinception cache stats" : "tinception cache verify",
                             stats ? "Entries and bytes of a cache folder, by layer and weights checksum."
                                   : "Check every entry of a cache folder (header, sizes, CRC-32, file name).");
    options.positional_help("[DIR]");
    const Parsed p = parse(options, argc, argv);
    if (p.args.count("help")) {
        std::cout << options.help({""});
        return kExitOk;
    }
    const std::string dir = one_folder(p, stats ? "stats" : "verify");
    std::unique_ptr<Progress> bar;
    const CacheReport r = scan_cache(dir, progress_of(bar, stats ? "stats" : "verify"));
    if (bar) bar->finish();
    for (const std::string& d : r.damaged) std::fprintf(stderr, "damaged: %s\n", d.c_str());
    if (stats) {
        std::printf("%s: %zu entries, %s", dir.c_str(), r.entries, megabytes(r.bytes).c_str());
        if (r.flat_entries) std::printf(" (%zu in the older flat layout)", r.flat_entries);
        std::printf(", %zu damaged\n", r.damaged.size());
        for (const auto& [key, group] : r.groups)
            std::printf("  layer %s, weights %s, %d floats: %zu entries, %s\n", std::get<0>(key).c_str(),
                        hex32(std::get<1>(key)).c_str(), std::get<2>(key), group.entries,
                        megabytes(group.bytes).c_str());
        return kExitOk;
    }
    std::printf("%s: %zu good entries, %zu damaged\n", dir.c_str(), r.entries, r.damaged.size());
    return r.damaged.empty() ? kExitOk : kExitFailure;
}

int run_prune(int argc, char** argv) {
    cxxopts::Options options("tinception cache prune",
                             "Remove the entries of a cache folder that match any of the given criteria.");
    options.positional_help("[DIR] (--weights-checksum HEX | --older-than DAYS | --damaged) [--dry-run]");
    options.add_options()
        ("weights-checksum", "entries made with the weights of this checksum (8 hex digits, as 'cache stats' shows)",
         cxxopts::value<std::string>())
        ("older-than", "entries last written more than DAYS ago", cxxopts::value<double>())
        ("damaged", "entries that fail 'cache verify'")
        ("dry-run", "count what would be removed, remove nothing");
    const Parsed p = parse(options, argc, argv);
    if (p.args.count("help")) {
        std::cout << options.help({""});
        return kExitOk;
    }
    PruneOptions o;
    if (p.args.count("weights-checksum")) {
        const std::string text = p.args["weights-checksum"].as<std::string>();
        if (text.empty() || text.size() > 8 || text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
            throw Error("--weights-checksum takes up to 8 hex digits, not '" + text + "'");
        o.weights_checksum = std::uint32_t(std::stoul(text, nullptr, 16));
    }
    if (p.args.count("older-than")) {
        o.older_than_days = p.args["older-than"].as<double>();
        if (!(*o.older_than_days >= 0)) throw Error("--older-than takes a number of days, 0 or more");
    }
    o.damaged = p.args.count("damaged") > 0;
    o.dry_run = p.args.count("dry-run") > 0;
    const std::string dir = one_folder(p, "prune");
    const PruneResult r = prune_cache(dir, o);
    std::printf("%s: %s %zu entries (%s), kept %zu\n", dir.c_str(), o.dry_run ? "would remove" : "removed", r.removed,
                megabytes(r.removed_bytes).c_str(), r.kept);
    return kExitOk;
}

}  // namespace

int run_cache(int argc, char** argv) {
    const std::string sub = argc >= 2 ? argv[1] : "";
    if (sub == "merge") return run_merge(argc - 1, argv + 1);
    if (sub == "verify") return run_verify_or_stats(argc - 1, argv + 1, false);
    if (sub == "stats") return run_verify_or_stats(argc - 1, argv + 1, true);
    if (sub == "prune") return run_prune(argc - 1, argv + 1);
    if (sub == "--help" || sub == "-h") {
        std::cout << kUsage;
        return kExitOk;
    }
    throw Error((sub.empty() ? std::string("cache needs a subcommand") : "unknown cache subcommand '" + sub + "'") +
                ": merge, verify, stats or prune (see 'tinception cache --help')");
}

}  // namespace tinception::cli
