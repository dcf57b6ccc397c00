// `tinception guess-dir MODEL IN_DIR OUT_DIR`: classify every image in IN_DIR and copy each
// to OUT_DIR as `<label>-<score>.<ext>`, plus OUT_DIR/predictions.csv. Never overwrites,
// never touches IN_DIR; unreadable files are reported, counted and listed in the CSV with
// their error.
#include <cxxopts.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "classify/classifier.hpp"
#include "classify/output_naming.hpp"
#include "cli/arguments.hpp"
#include "cli/cli_paths.hpp"
#include "cli/commands.hpp"
#include "cli/csv_text.hpp"
#include "cli/thread_option.hpp"
#include "cli/progress.hpp"
#include "error.hpp"
#include "file_io.hpp"

namespace tinception::cli {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kBatch = 8;

// A predictions.csv row for a file that could not be classified: no label, score or copy.
std::string failed_row(const std::string& path, const std::string& error) {
    return csv_field(path) + ",,,," + csv_field(reason_without_path(path, error)) + "\n";
}

struct Entry {
    std::string path;
    std::vector<std::uint8_t> bytes;
    ImageRgb8 image;
};

}  // namespace

int run_guess_dir(int argc, char** argv) {
    cxxopts::Options options("tinception guess-dir",
                             "Classify every image in IN_DIR; copy each to OUT_DIR as <label>-<score>.<ext>\n"
                             "and write OUT_DIR/predictions.csv. Existing files are never replaced.");
    options.positional_help("MODEL IN_DIR OUT_DIR");
    options.add_options()
        ("weights", "weight file (default: the one the model was trained with)", cxxopts::value<std::string>())
        ("h,help", "show this help");
    add_threads_option(options);
    const Arguments parsed = parse_arguments(options, argc, argv, 3, 3, "guess-dir MODEL IN_DIR OUT_DIR");
    const cxxopts::ParseResult& args = parsed.options;
    if (args.count("help")) {
        std::cout << options.help({""});
        return kExitOk;
    }
    const std::vector<std::string>& positional = parsed.positional;
    const std::string& in_dir = positional[1];
    const std::string& out_dir = positional[2];
    apply_threads_option(args);

    std::error_code ec;
    if (!fs::is_directory(in_dir, ec)) throw Error(in_dir + ": not a folder");
    if (fs::equivalent(in_dir, out_dir, ec)) throw Error("the output folder must differ from the input folder");
    const Classifier classifier = Classifier::open(
        positional[0], weights_for_model(positional[0], args.count("weights") ? args["weights"].as<std::string>() : ""));
    // Made once the model opens, so a refused run leaves no empty folder behind.
    fs::create_directories(out_dir, ec);
    if (ec || !fs::is_directory(out_dir)) throw Error(out_dir + ": cannot create the output folder: " + ec.message());
    FeatureExtractor extractor = classifier.extractor();

    std::vector<std::string> paths;
    std::size_t unreadable = 0;
    std::string csv = "file,label,score,output,error\n";
    for (const fs::directory_entry& e : fs::directory_iterator(in_dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.empty() || name[0] == '.') continue;
        // Its own error code: a broken entry (a symlink loop, say) is skipped, not a listing failure.
        std::error_code entry_ec;
        const fs::file_status status = e.status(entry_ec);
        if (entry_ec) {
            const std::string reason = "cannot read: " + entry_ec.message();
            std::fprintf(stderr, "warning: %s: skipped, %s\n", e.path().c_str(), reason.c_str());
            csv += failed_row(e.path().string(), reason);
            ++unreadable;
            continue;
        }
        if (fs::is_directory(status)) {
            std::fprintf(stderr, "warning: %s: skipped, a sub-folder (guess-dir does not recurse)\n", e.path().c_str());
            continue;
        }
        if (!fs::is_regular_file(status)) {
            std::fprintf(stderr, "warning: %s: skipped, not a regular file\n", e.path().c_str());
            continue;
        }
        // By content: an image named without its extension is classified; a file named like
        // an image but holding something else is read, fails and is listed as failed.
        if (const std::string problem = image_file_problem(e.path().string());
            !problem.empty() && !has_image_extension(name)) {
            std::fprintf(stderr, "warning: %s: skipped, %s\n", e.path().c_str(), problem.c_str());
            continue;
        }
        paths.push_back(e.path().string());
    }
    if (ec) throw Error(in_dir + ": cannot list: " + ec.message());
    std::sort(paths.begin(), paths.end());

    std::size_t classified = 0, failed = unreadable;
    Progress progress("classifying", paths.size(), "images");
    for (std::size_t first = 0; first < paths.size(); first += kBatch) {
        std::vector<Entry> batch;
        for (std::size_t i = first; i < std::min(paths.size(), first + kBatch); ++i) {
            try {
                Entry e{paths[i], read_file_bytes(paths[i]), {}};
                e.image = decode_image(e.bytes.data(), e.bytes.size(), paths[i]);
                batch.push_back(std::move(e));
            } catch (const Error& err) {
                progress.warn(skipped_message(paths[i], err.what()));
                csv += failed_row(paths[i], err.what());
                ++failed;
                progress.advance();
            }
        }
        std::vector<ImageRgb8> images;
        for (Entry& e : batch) images.push_back(std::move(e.image));
        const auto scores = classifier.classify(extractor, images);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const LabelScore& top = scores[i].front();
            const std::string name = classified_file_name(top.label, top.score, batch[i].path);
            const std::string written = write_new_file(out_dir, name, batch[i].bytes);
            char score[32];
            std::snprintf(score, sizeof score, "%.5f", double(top.score));
            csv += csv_field(batch[i].path) + "," + csv_field(top.label) + "," + score + "," +
                   csv_field(fs::path(written).filename().string()) + ",\n";
            ++classified;
            progress.advance();
        }
    }
    progress.finish();
    const std::string csv_path =
        write_new_file(out_dir, "predictions.csv", std::vector<std::uint8_t>(csv.begin(), csv.end()));
    std::printf("guess-dir: %zu classified, %zu failed; copies in %s, predictions in %s\n", classified, failed,
                out_dir.c_str(), csv_path.c_str());
    return failed ? kExitFailure : kExitOk;
}

}  // namespace tinception::cli
