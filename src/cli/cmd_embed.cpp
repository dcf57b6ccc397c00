// `tinception embed WEIGHTS|MODEL IMAGE...`: each image's bottleneck features, as raw float32
// rows or CSV; a model gives what its head reads: its own layers, fine-tuned ones included,
// standardised as it stores. --raw-input takes an already preprocessed NHWC tensor instead of
// images, so the engine can be compared with another implementation on exactly the same input.
#include <cxxopts.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "classify/classifier.hpp"
#include "cli/cli_paths.hpp"
#include "cli/decode_option.hpp"
#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "cli/csv_text.hpp"
#include "cli/precision_option.hpp"
#include "cli/thread_option.hpp"
#include "error.hpp"
#include "file_io.hpp"
#include "image/image.hpp"
#include "model/feature_extractor.hpp"

namespace tinception::cli {
namespace {

std::string csv_of(const std::vector<std::string>& names, const std::vector<float>& features, int size) {
    std::ostringstream out;
    out.precision(9);
    for (std::size_t i = 0; i < names.size(); ++i) {
        out << csv_field(names[i]);
        for (int k = 0; k < size; ++k) out << ',' << features[i * size + k];
        out << '\n';
    }
    return out.str();
}

bool is_classifier_file(const std::string& path) {
    char magic[8] = {};
    std::ifstream(path, std::ios::binary).read(magic, sizeof magic);
    return std::memcmp(magic, "TCLF\r\n\x1a\n", sizeof magic) == 0;
}

struct Embedding {
    FeatureExtractor extractor;
    FeatureStandardization standardization;  // a model's, for its own features; else empty
};

// A model's features are its feature layer's (tuned layers and all, standardised) unless
// --layer names another, which is given raw.
Embedding embedding_for(const std::string& path, const cxxopts::ParseResult& args) {
    if (!is_classifier_file(path)) return {FeatureExtractor(path, args["layer"].as<std::string>()), {}};
    const Classifier classifier = Classifier::open(path, weights_for_model(path, ""));
    const std::string layer = args.count("layer") ? args["layer"].as<std::string>() : "";
    const bool own = layer.empty() || layer == classifier.model().feature_layer;
    return {classifier.extractor(layer), own ? classifier.model().standardization : FeatureStandardization{}};
}

}  // namespace

int run_embed(int argc, char** argv) {
    cxxopts::Options options("tinception embed",
                             "Write each image's features: the chosen layer, global-average-pooled.\n"
                             "Binary output is little-endian float32, one row of feature-size values per image.");
    options.positional_help("WEIGHTS|MODEL IMAGE...");
    options.add_options()
        ("layer", "layer whose pooled output is the feature vector (mixed0..mixed10), or several side by side "
                  "(mixed5,mixed7), from one pass (default for a MODEL: its own, fine-tuned layers included, "
                  "standardised as the model stores; another layer of a MODEL is given raw)",
         cxxopts::value<std::string>()->default_value(std::string(kDefaultFeatureLayer)))
        ("o,output", "write to FILE (binary float32, or CSV with --csv); default: CSV on stdout",
         cxxopts::value<std::string>())
        ("csv", "write CSV (name,f0,f1,...) instead of binary")
        ("raw-input", "read a preprocessed NHWC float32 tensor [N][299][299][3] instead of images",
         cxxopts::value<std::string>())
        ("h,help", "show this help");
    add_threads_option(options);
    add_decode_option(options);
    add_precision_options(options);
    const Arguments parsed = parse_arguments(options, argc, argv, 1, SIZE_MAX, "embed WEIGHTS|MODEL IMAGE...");
    const cxxopts::ParseResult& args = parsed.options;
    if (args.count("help")) {
        std::cout << options.help({""});
        return kExitOk;
    }
    apply_threads_option(args);
    check_precision_option(args);
    const bool raw = args.count("raw-input") > 0;
    const std::vector<std::string> images(parsed.positional.begin() + 1, parsed.positional.end());
    if (!raw && images.empty()) throw Error("embed needs images to read, or --raw-input FILE (see 'tinception embed --help')");
    if (raw && !images.empty()) throw Error("embed takes images or --raw-input FILE, not both");

    Embedding embedding = embedding_for(parsed.positional[0], args);
    FeatureExtractor& extractor = embedding.extractor;
    apply_precision_option(args, extractor);
    std::vector<std::string> names;
    std::vector<float> features;
    if (raw) {
        const std::string path = args["raw-input"].as<std::string>();
        const std::vector<std::uint8_t> bytes = read_file_bytes(path);
        const int size = extractor.preprocessing().size;
        const std::size_t image_bytes = std::size_t(size) * size * 3 * sizeof(float);
        if (bytes.empty() || bytes.size() % image_bytes != 0)
            throw Error(path + ": " + std::to_string(bytes.size()) + " bytes is not a whole number of " +
                        std::to_string(size) + "x" + std::to_string(size) + "x3 float32 images");
        const int n = int(bytes.size() / image_bytes);
        std::vector<float> input(bytes.size() / sizeof(float));
        std::memcpy(input.data(), bytes.data(), bytes.size());
        features = extractor.extract_preprocessed(input.data(), n);
        for (int i = 0; i < n; ++i) names.push_back(path + "[" + std::to_string(i) + "]");
    } else {
        std::vector<ImageRgb8> decoded;
        for (const std::string& path : images) decoded.push_back(load_image(path, decode_limits(extractor.preprocessing(), decode_mode_option(args))));
        features = extractor.extract(decoded);
        names = images;
    }

    const int size = extractor.feature_size();
    embedding.standardization.apply(features.data(), names.size());
    if (!args.count("output")) {
        std::cout << csv_of(names, features, size);
        return kExitOk;
    }
    const std::string out = args["output"].as<std::string>();
    if (args.count("csv")) {
        const std::string text = csv_of(names, features, size);
        write_file_atomically(out, text.data(), text.size());
    } else {
        write_file_atomically(out, features.data(), features.size() * sizeof(float));
    }
    std::cerr << "embed: " << names.size() << " x " << size << " features of layer " << extractor.layer() << " ("
              << extractor.precision() << (embedding.standardization.empty() ? "" : ", standardised")
              << ") written to " << out << "\n";
    return kExitOk;
}

}  // namespace tinception::cli
