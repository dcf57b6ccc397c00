// `tinception info [FILE]`: the build and the machine, or what a weight file or a trained
// model (.tcm: labels, how it was trained, its results, where its weights are) holds.
#include <cxxopts.hpp>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "build_info.hpp"
#include "byte_io.hpp"
#include "classify/classifier_model.hpp"
#include "cli/arguments.hpp"
#include "cli/cli_paths.hpp"
#include "cli/commands.hpp"
#include "cpu_features.hpp"
#include "cli/precision_option.hpp"
#include "kernel_dispatch.hpp"
#include "weights/weight_file.hpp"

namespace tinception::cli {
namespace {

// Opening the file already verified every checksum; reaching the print means they matched.
void print_weight_file(const std::string& path) {
    const WeightFile file = WeightFile::open(path);
    const auto& meta = file.metadata();
    const auto source = meta.find("source");
    std::map<std::string, int> ops;
    for (const LayerSpec& l : file.layers()) ++ops[l.op];
    std::uint64_t parameters = 0;
    for (const TensorRef& t : file.tensors()) parameters += t.count;
    char crc[16], file_crc[16];
    std::snprintf(crc, sizeof crc, "%08x", unsigned(file.checksum()));
    std::snprintf(file_crc, sizeof file_crc, "%08x", unsigned(file.file_checksum()));
    std::cout << "file:         " << path << "\n"
              << "source:       " << (source == meta.end() ? "(not recorded)" : source->second) << "\n"
              << "format:       tcw version " << file.format_version()
              << (file.expands_at_load() ? " (8-bit: uint8 tensors expanded, batch norm folded at load)" : " (float32)")
              << "\n"
              << "file size:    " << file.file_size() << " bytes\n"
              << "layers:       " << file.layers().size() << " (";
    bool first = true;
    for (const auto& [op, n] : ops) {
        std::cout << (first ? "" : ", ") << n << " " << op;
        first = false;
    }
    std::cout << ")\n"
              << "tensors:      " << file.tensors().size() << "\n"
              << "parameters:   " << parameters << " (" << double(parameters) / 1e6 << " M)\n"
              << "checksum:     verified (crc32 of table and data " << (file.expands_at_load() ? file_crc : crc);
    if (file.expands_at_load()) std::cout << "; expands to the float32 file with crc32 " << crc << ", which models record";
    std::cout << ")\n";
}

bool is_classifier_file(const std::string& path) {
    char magic[4] = {};
    std::ifstream in(path, std::ios::binary);
    return in.read(magic, sizeof magic) && std::memcmp(magic, "TCLF", 4) == 0;
}

// 0.9633 -> "96.3", as train prints accuracies.
std::string points(double fraction) {
    char text[16];
    std::snprintf(text, sizeof text, "%.1f", 100 * fraction);
    return text;
}

// What a weight file candidate holds, as `info` reports it for a model.
std::string candidate_status(const std::string& path, std::uint32_t wanted_checksum) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return "not there";
    try {
        const WeightFile file = WeightFile::open(path);
        return file.checksum() == wanted_checksum ? "there, checksum matches"
                                                  : "there, but other weights (checksum " + hex32(file.checksum()) + ")";
    } catch (const Error& e) {
        return std::string("there, unreadable: ") + e.what();
    }
}

void print_model(const std::string& path) {
    const ClassifierModel m = load_classifier_model(path);
    const TrainingRecord& t = m.training;
    std::cout << "file:         " << path << "\n"
              << "format:       tcm version " << m.format_version << "\n"
              << "labels:       " << m.labels.size() << ":";
    for (std::size_t i = 0; i < m.labels.size(); ++i) std::cout << (i ? ", " : " ") << m.labels[i];
    std::cout << "\nbottleneck:   " << m.feature_layer << " (" << m.feature_size << " features"
              << (m.standardization.empty() ? "" : ", standardised") << ")\n";
    if (!m.int8_ranges.empty())
        std::cout << "precision:    int8, with the activation ranges of " << m.int8_ranges.size()
                  << " layers calibrated in training (guess runs the int8 network; --precision fp32 overrides)\n";
    if (m.bf16_features)
        std::cout << "precision:    bf16, trained on the bf16 network's features (guess runs it where the CPU has "
                     "AVX-512 BF16, fp32 elsewhere; --precision fp32 overrides)\n";
    if (m.augmentation == TestTimeAugmentation::flip)
        std::cout << "test time:    each image's scores averaged with its mirror's (--tta flip)\n";
    if (!m.tuned.empty()) std::cout << "fine-tuned:   " << m.tuned.describe(m.feature_layer) << "\n";
    if (!t.present) {
        std::cout << "training:     not recorded (a format 1 model, written before models kept it)\n";
    } else {
        std::cout << "trained:      " << t.trained_at << "\n";
        for (const auto& [name, value] : t.settings) std::printf("  %-26s %s\n", name.c_str(), value.c_str());
        std::size_t width = 5;  // "total"
        for (const std::string& l : m.labels) width = std::max(width, l.size());
        std::printf("images:       %-*s  %8s  %10s  %7s\n", int(width), "", "training", "validation", "testing");
        SplitCounts total;
        for (std::size_t i = 0; i < m.labels.size(); ++i) {
            const SplitCounts& c = t.split_counts[i];
            std::printf("              %-*s  %8zu  %10zu  %7zu\n", int(width), m.labels[i].c_str(), c.training,
                        c.validation, c.testing);
            total.training += c.training, total.validation += c.validation, total.testing += c.testing;
        }
        std::printf("              %-*s  %8zu  %10zu  %7zu\n", int(width), "total", total.training, total.validation,
                    total.testing);
        std::cout << "test accuracy: "
                  << (t.test_count ? points(t.test_accuracy) + "% on " + std::to_string(t.test_count) + " images"
                                   : "no test split")
                  << "\ncross-validated accuracy: "
                  << (t.folds ? points(t.fold_mean) + "% +- " + points(t.fold_stddev) + " (" + std::to_string(t.folds) +
                                    " folds)"
                              : "not run (train --cross-validate K)")
                  << "\n";
    }
    std::cout << "weights:      checksum " << hex32(m.weights_checksum) << ", recorded as " << m.weights_path << "\n";
    std::cout << "looked for at (without --weights, in this order):\n";
    for (const std::string& candidate : weight_file_candidates(path))
        std::cout << "  " << candidate << ": " << candidate_status(candidate, m.weights_checksum) << "\n";
}

}  // namespace

int run_info(int argc, char** argv) {
    cxxopts::Options options("tinception info",
                             "Print version, compiler, build type, CPU features and kernel sets;\n"
                             "with FILE, what a .tcw weight file holds, its checksums verified, or what a\n"
                             "trained .tcm model holds: labels, how it was trained, its results and where\n"
                             "its weight file is looked for.");
    options.add_options()("h,help", "show this help");
    options.positional_help("[WEIGHTS.tcw | MODEL.tcm]");
    const Arguments parsed = parse_arguments(options, argc, argv, 0, 1, "info [WEIGHTS.tcw | MODEL.tcm]");
    const cxxopts::ParseResult& args = parsed.options;
    if (args.count("help")) {
        std::cout << options.help();
        return kExitOk;
    }
    if (!parsed.positional.empty()) {
        if (is_classifier_file(parsed.positional[0]))
            print_model(parsed.positional[0]);
        else
            print_weight_file(parsed.positional[0]);
        return kExitOk;
    }
    std::cout << "tinception " << build_info::version << "\n"
              << "compiler:     " << build_info::compiler << "\n"
              << "build type:   " << build_info::build_type << "\n"
              << "cpu features: " << kernels::describe(kernels::cpu_features()) << "\n"
              << "kernel sets:  ";
    for (const kernels::KernelTable* t : available_kernel_tables()) std::cout << t->isa_name << " ";
    std::cout << "\nactive:       " << active_kernels().isa_name << "\n"
              << "precisions:   " << native_precisions() << "\n";
    return kExitOk;
}

}  // namespace tinception::cli
