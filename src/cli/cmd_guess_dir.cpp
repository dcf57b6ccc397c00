// `tinception guess-dir MODEL IN_DIR OUT_DIR`: classify every image in IN_DIR and copy (or
// hard-link) each to OUT_DIR as `<label>-<score>.<ext>` or, with --by-label, under
// OUT_DIR/<label>/ with its own name; plus OUT_DIR/predictions.csv. Never overwrites,
// never touches IN_DIR; unreadable files are reported, counted and listed in the CSV with
// their error.
#include <cxxopts.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "classify/classifier.hpp"
#include "classify/output_naming.hpp"
#include "cli/decode_option.hpp"
#include "cli/packed_cache_option.hpp"
#include "cli/arguments.hpp"
#include "cli/cli_paths.hpp"
#include "cli/commands.hpp"
#include "cli/csv_text.hpp"
#include "cli/precision_option.hpp"
#include "cli/thread_option.hpp"
#include "cli/progress.hpp"
#include "error.hpp"
#include "file_io.hpp"
#include "model/image_batches.hpp"

namespace tinception::cli {
namespace {

namespace fs = std::filesystem;
constexpr const char* kUnknownLabel = "unknown";

struct Placement {
    bool by_label = false;
    bool recursive = false;
    bool link = false;
    double threshold = 0;
};

// An image to classify and the folder it sits in, relative to IN_DIR ("" at its top).
struct Input {
    std::string path;
    fs::path folder;
};

// A predictions.csv row for a file that could not be classified: no label, score or copy.
std::string failed_row(const std::string& path, const std::string& error) {
    return csv_field(path) + ",,,," + csv_field(reason_without_path(path, error)) + "\n";
}

void warn_skipped(const fs::path& path, const std::string& reason) {
    std::fprintf(stderr, "warning: %s: skipped, %s\n", path.c_str(), reason.c_str());
}

// IN_DIR's images, in sub-folders too when `recursive` (links to folders are not followed,
// and OUT_DIR is left out when it lies inside IN_DIR). Unreadable entries go to `csv`.
void list_inputs(const fs::path& dir, const fs::path& folder, const std::string& out_dir, bool recursive,
                 std::vector<Input>& inputs, std::string& csv, std::size_t& unreadable) {
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.empty() || name[0] == '.') continue;
        // Its own error code: a broken entry (a symlink loop, say) is skipped, not a listing failure.
        std::error_code entry_ec;
        const fs::file_status status = e.status(entry_ec);
        if (entry_ec) {
            const std::string reason = "cannot read: " + entry_ec.message();
            warn_skipped(e.path(), reason);
            csv += failed_row(e.path().string(), reason);
            ++unreadable;
            continue;
        }
        if (fs::is_directory(status)) {
            if (!recursive)
                warn_skipped(e.path(), "a sub-folder (guess-dir recurses only with --recursive)");
            else if (e.is_symlink(entry_ec))
                warn_skipped(e.path(), "a link to a folder (not followed)");
            else if (!fs::equivalent(e.path(), out_dir, entry_ec))
                list_inputs(e.path(), folder / name, out_dir, recursive, inputs, csv, unreadable);
            continue;
        }
        if (!fs::is_regular_file(status)) {
            warn_skipped(e.path(), "not a regular file");
            continue;
        }
        // By content: an image named without its extension is classified; a file named like
        // an image but holding something else is read, fails and is listed as failed.
        if (const std::string problem = image_file_problem(e.path().string());
            !problem.empty() && !has_image_extension(name)) {
            warn_skipped(e.path(), problem);
            continue;
        }
        inputs.push_back({e.path().string(), folder});
    }
    if (ec) throw Error(dir.string() + ": cannot list: " + ec.message());
}

// Copies or links one classified image into place; returns its path relative to OUT_DIR.
// `bytes` are the image file's, written as they are.
std::string place(const Input& input, const std::vector<std::uint8_t>& bytes, const std::string& label, float score,
                  const std::string& out_dir, const Placement& how, std::size_t& links) {
    const fs::path folder = how.by_label ? fs::path(safe_name_for_label(label)) / input.folder : input.folder;
    const std::string target = (fs::path(out_dir) / folder).string();
    std::error_code ec;
    fs::create_directories(target, ec);
    if (ec) throw Error(target + ": cannot create the folder: " + ec.message(), ErrorKind::internal);
    const std::string name =
        how.by_label ? fs::path(input.path).filename().string() : classified_file_name(label, score, input.path);
    bool linked = false;
    const std::string written = how.link ? link_or_write_new_file(input.path, target, name, bytes, &linked)
                                         : write_new_file(target, name, bytes);
    links += linked;
    return (folder / fs::path(written).filename()).lexically_normal().string();
}

}  // namespace

int run_guess_dir(int argc, char** argv) {
    cxxopts::Options options("tinception guess-dir",
                             "Classify every image in IN_DIR; copy each to OUT_DIR as <label>-<score>.<ext>\n"
                             "and write OUT_DIR/predictions.csv. IN_DIR is never modified and existing files\n"
                             "are never replaced: a taken name gets -2, -3...");
    options.positional_help("MODEL IN_DIR OUT_DIR");
    options.add_options()
        ("by-label", "put each image in OUT_DIR/<label>/ under its own name instead")
        ("threshold", "a top score below this (0..1) files the image under 'unknown'",
         cxxopts::value<std::string>()->default_value("0"))
        ("recursive", "classify the images of IN_DIR's sub-folders too, keeping their folders in OUT_DIR")
        ("link", "hard-link instead of copying where the file system allows (the output then shares "
                 "the input's data: editing one edits both); else copy")
        ("weights", "weight file (default: the one the model was trained with)", cxxopts::value<std::string>())
        ("h,help", "show this help");
    add_packed_cache_option(options);
    add_threads_option(options);
    add_precision_options(options);
    add_decode_option(options);
    const Arguments parsed = parse_arguments(options, argc, argv, 3, 3, "guess-dir MODEL IN_DIR OUT_DIR");
    const cxxopts::ParseResult& args = parsed.options;
    if (args.count("help")) {
        std::cout << options.help({""});
        return kExitOk;
    }
    const std::vector<std::string>& positional = parsed.positional;
    const std::string& in_dir = positional[1];
    const std::string& out_dir = positional[2];
    Placement how;
    how.by_label = args.count("by-label") > 0;
    how.recursive = args.count("recursive") > 0;
    how.link = args.count("link") > 0;
    how.threshold = number_option(args, "threshold", 0, 1);
    apply_threads_option(args);
    check_precision_option(args);

    std::error_code ec;
    if (!fs::is_directory(in_dir, ec)) throw Error(in_dir + ": not a folder");
    if (fs::equivalent(in_dir, out_dir, ec)) throw Error("the output folder must differ from the input folder");
    const PackedCacheChoice cache = packed_cache_option(args);
    const Classifier classifier = Classifier::open(
        positional[0], weights_for_model(positional[0], args.count("weights") ? args["weights"].as<std::string>() : ""),
        cache);
    // Made once the model opens, so a refused run leaves no empty folder behind.
    fs::create_directories(out_dir, ec);
    if (ec || !fs::is_directory(out_dir)) throw Error(out_dir + ": cannot create the output folder: " + ec.message());
    FeatureExtractor extractor = classifier.extractor();
    apply_precision_option(args, extractor, &cache);
    warn_if_bf16_model_runs_fp32(args, classifier.model(), extractor);
    const ImageLimits decode = decode_limits(extractor.preprocessing(), decode_mode_option(args));

    std::vector<Input> inputs;
    std::size_t unreadable = 0;
    std::string csv = "file,label,score,output,error\n";
    list_inputs(in_dir, "", out_dir, how.recursive, inputs, csv, unreadable);
    std::sort(inputs.begin(), inputs.end(), [](const Input& a, const Input& b) { return a.path < b.path; });

    std::size_t classified = 0, failed = unreadable, links = 0;
    Progress progress("classifying", inputs.size(), "images");
    std::vector<std::vector<std::uint8_t>> bytes(inputs.size());  // an image's file, kept to copy it
    const auto run = [&](const std::vector<std::size_t>& items, std::vector<ImageRgb8>& images) {
        const auto scores = classifier.classify(extractor, images);
        for (std::size_t i = 0; i < items.size(); ++i) {
            const std::size_t item = items[i];
            const LabelScore& top = scores[i].front();
            const std::string label = top.score < how.threshold ? kUnknownLabel : top.label;
            const std::string written = place(inputs[item], bytes[item], label, top.score, out_dir, how, links);
            char score[32];
            std::snprintf(score, sizeof score, "%.5f", double(top.score));
            csv += csv_field(inputs[item].path) + "," + csv_field(label) + "," + score + "," + csv_field(written) +
                   ",\n";
            bytes[item] = {};
            ++classified;
            progress.advance();
        }
    };
    const auto fail = [&](std::size_t item, const Error& err) {
        const std::string& path = inputs[item].path;
        progress.warn(skipped_message(path, err.what()));
        csv += failed_row(path, err.what());
        bytes[item] = {};
        ++failed;
        progress.advance();
    };
    ImageBatches batches(run, fail);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        // Read and decoded with the rest of its batch, on every thread.
        batches.add(i, ImageBatches::Decode([&, i] {
            bytes[i] = read_file_bytes(inputs[i].path);
            return decode_image(bytes[i].data(), bytes[i].size(), inputs[i].path, decode);
        }));
    }
    batches.flush();
    progress.finish();
    const std::string csv_path =
        write_new_file(out_dir, "predictions.csv", std::vector<std::uint8_t>(csv.begin(), csv.end()));
    const std::string placed = how.link ? std::to_string(links) + " linked, " + std::to_string(classified - links) +
                                              " copied" : "copies";
    std::printf("guess-dir: %zu classified, %zu failed; %s in %s, predictions in %s\n", classified, failed,
                placed.c_str(), out_dir.c_str(), csv_path.c_str());
    return failed ? kExitFailure : kExitOk;
}

}  // namespace tinception::cli
