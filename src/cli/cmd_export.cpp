// `tinception export MODEL -o classifier.onnx`: the trained classifier, with the network it
// reads its features from, as one ONNX model (see export/onnx_export.hpp for its interface).
#include <sys/stat.h>

#include <cxxopts.hpp>
#include <cstdio>
#include <iostream>

#include "byte_io.hpp"
#include "cli/arguments.hpp"
#include "cli/cli_paths.hpp"
#include "cli/commands.hpp"
#include "error.hpp"
#include "export/onnx_export.hpp"
#include "classify/classifier_model.hpp"
#include "weights/weight_file.hpp"

namespace tinception::cli {
namespace {

int batch_from(const std::string& text) {
    if (text == "dynamic") return 0;
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0' || value < 1 || value > 1 << 20)
        throw Error("--batch must be 'dynamic' or a batch size of 1 or more, not '" + text + "'");
    return int(value);
}

}  // namespace

int run_export(int argc, char** argv) {
    cxxopts::Options options(
        "tinception export",
        "Write a trained model as one self-contained ONNX file: the network from the image to the\n"
        "model's feature layer, the global average pool, the retrained layer and softmax.\n"
        "Input 'image': float32 [N, 299, 299, 3], NHWC, RGB in [0, 1] (bilinear resize to 299x299,\n"
        "then pixel / 255; `tinception preprocess` writes it). Output 'scores': float32 [N, labels].\n"
        "The labels and the preprocessing are in the file's metadata_props and doc_string.");
    options.positional_help("MODEL");
    options.add_options()
        ("o,output", "ONNX file to write (default: MODEL with the extension .onnx)", cxxopts::value<std::string>())
        ("opset", "ONNX operator set version, " + std::to_string(kMinOpset) + ".." + std::to_string(kMaxOpset),
         cxxopts::value<std::string>()->default_value(std::to_string(kMinOpset)))
        ("batch", "batch dimension: 'dynamic' or a fixed size N", cxxopts::value<std::string>()->default_value("dynamic"))
        ("weights", "weight file (default: the one the model was trained with)", cxxopts::value<std::string>())
        ("force", "replace the output file if it exists")
        ("h,help", "show this help");
    const Arguments parsed = parse_arguments(options, argc, argv, 1, 1, "export MODEL [-o FILE.onnx]");
    const cxxopts::ParseResult& args = parsed.options;
    if (args.count("help")) {
        std::cout << options.help({""});
        return kExitOk;
    }
    OnnxExportOptions export_options;
    export_options.opset = int(integer_option(args, "opset", kMinOpset, kMaxOpset));
    ir_version_for_opset(export_options.opset);  // refuses an opset before any work
    export_options.batch = batch_from(args["batch"].as<std::string>());
    const std::string& model_path = parsed.positional[0];
    const std::string out = args.count("output") ? args["output"].as<std::string>() : with_suffix(model_path, ".onnx");
    const bool replace = args.count("force") > 0;
    struct stat st {};
    if (!replace && ::stat(out.c_str(), &st) == 0)
        throw Error(out + " already exists; choose another name or pass --force to replace it");

    const ClassifierModel model = load_classifier_model(model_path);
    const std::string weights_path =
        weights_for_model(model_path, args.count("weights") ? args["weights"].as<std::string>() : "");
    const WeightFile weights = WeightFile::open(weights_path);
    if (weights.checksum() != model.weights_checksum)
        throw Error(model_path + " was trained on weights with checksum " + hex32(model.weights_checksum) + ", but " +
                    weights.path() + " has " + hex32(weights.checksum()));
    const OnnxModel onnx = build_onnx_model(model, trunk_from_weights(weights), export_options);
    const OnnxExportSummary summary = write_onnx_model(onnx, out, replace);
    const std::string n = export_options.batch ? std::to_string(export_options.batch) : "N";
    std::printf("wrote %s: %.1f MB, opset %d, %zu nodes, %zu initializers; input image [%s, %d, %d, 3] NHWC, "
                "output scores [%s, %zu]\n",
                out.c_str(), double(summary.bytes) / 1e6, int(export_options.opset), summary.nodes,
                summary.initializers, n.c_str(), model.preprocessing.size, model.preprocessing.size, n.c_str(),
                model.labels.size());
    return kExitOk;
}

}  // namespace tinception::cli
