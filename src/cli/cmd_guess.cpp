// `tinception guess MODEL IMAGE...`: label_image.py's output, `label (score = 0.99636)`
// lines sorted by score, or JSON.
#include <cxxopts.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "classify/classifier.hpp"
#include "cli/decode_option.hpp"
#include "cli/packed_cache_option.hpp"
#include "cli/arguments.hpp"
#include "cli/cli_paths.hpp"
#include "cli/commands.hpp"
#include "cli/precision_option.hpp"
#include "cli/thread_option.hpp"
#include "cli/json_text.hpp"
#include "error.hpp"
#include "model/image_batches.hpp"

namespace tinception::cli {

int run_guess(int argc, char** argv) {
    cxxopts::Options options("tinception guess", "Classify images with a trained model.");
    options.positional_help("MODEL IMAGE...");
    options.add_options()
        ("top-k", "labels to print per image (0: all)", cxxopts::value<std::string>()->default_value("0"))
        ("json", "print JSON instead of text")
        ("weights", "weight file (default: the one the model was trained with)", cxxopts::value<std::string>())
        ("h,help", "show this help");
    add_packed_cache_option(options);
    add_threads_option(options);
    add_precision_options(options);
    add_decode_option(options);
    const Arguments parsed = parse_arguments(options, argc, argv, 2, SIZE_MAX, "guess MODEL IMAGE...");
    const cxxopts::ParseResult& args = parsed.options;
    if (args.count("help")) {
        std::cout << options.help({""});
        return kExitOk;
    }
    apply_threads_option(args);
    check_precision_option(args);
    const int top_k = int(integer_option(args, "top-k", 0, 1'000'000));
    const bool json = args.count("json") > 0;
    const std::vector<std::string> images(parsed.positional.begin() + 1, parsed.positional.end());

    const std::string& model = parsed.positional[0];
    const std::string weights =
        weights_for_model(model, args.count("weights") ? args["weights"].as<std::string>() : "");
    // The model file alone says how to decode. The weight file is opened, and checked against
    // the model, once an image has decoded, and the network built then: a bad image is
    // refused in milliseconds, without either (opening the 8-bit weight file alone expands
    // and folds its small tensors).
    const ImageLimits decode = decode_limits(load_classifier_model(model).preprocessing, decode_mode_option(args));
    const PackedCacheChoice cache = packed_cache_option(args);
    std::optional<Classifier> classifier;
    std::unique_ptr<FeatureExtractor> extractor;
    int failures = 0;
    std::vector<std::string> json_entries(images.size());  // in the images' order, whatever ran first
    const auto report = [&](std::size_t i, const Error& e) {
        std::fprintf(stderr, "tinception: error: %s\n", e.what());
        ++failures;
        json_entries[i] = "{\"image\": " + json_string(images[i]) + ", \"error\": " + json_string(e.what()) + "}";
    };
    bool printed = false;
    const auto run = [&](const std::vector<std::size_t>& items, std::vector<ImageRgb8>& decoded) {
        // Built at the first batch, so images that all fail never load the network.
        if (!extractor) {  // missing or damaged weights, or a bad calibration folder, end the run
            classifier.emplace(Classifier::open(model, weights, cache));
            extractor = std::make_unique<FeatureExtractor>(classifier->extractor());
            apply_precision_option(args, *extractor, &cache);
            warn_if_bf16_model_runs_fp32(args, classifier->model(), *extractor);
        }
        std::vector<std::vector<LabelScore>> scores;
        try {
            scores = classifier->classify(*extractor, decoded);
        } catch (const Error& e) {
            for (const std::size_t i : items) report(i, e);
            return;
        }
        for (std::size_t b = 0; b < items.size(); ++b) {
            const std::size_t i = items[b];
            std::vector<LabelScore>& top = scores[b];
            if (top_k > 0 && std::size_t(top_k) < top.size()) top.resize(std::size_t(top_k));
            if (json) {
                std::string& entry = json_entries[i];
                entry = "{\"image\": " + json_string(images[i]) + ", \"scores\": [";
                for (std::size_t k = 0; k < top.size(); ++k) {
                    char score[32];
                    std::snprintf(score, sizeof score, "%.5f", top[k].score);
                    entry += std::string(k ? ", " : "") + "{\"label\": " + json_string(top[k].label) +
                             ", \"score\": " + score + "}";
                }
                entry += "]}";
                continue;
            }
            if (images.size() > 1) std::printf("%s%s:\n", printed ? "\n" : "", images[i].c_str());
            for (const LabelScore& s : top) std::printf("%s (score = %.5f)\n", s.label.c_str(), s.score);
            printed = true;
        }
    };
    ImageBatches batches(run, report);
    for (std::size_t i = 0; i < images.size(); ++i)
        batches.add(i, ImageBatches::Decode([&, i] { return load_image(images[i], decode); }));
    batches.flush();
    if (json) {
        std::string out = "[";
        for (const std::string& entry : json_entries)
            if (!entry.empty()) out += std::string(out.size() > 1 ? "," : "") + "\n  " + entry;
        std::printf("%s\n]\n", out.c_str());
    }
    return failures ? kExitBadInput : kExitOk;
}

}  // namespace tinception::cli
