// The tinception command: picks a subcommand and turns every error that ends the program into
// one line and an exit code. Commands that go on past one bad image (guess, guess-dir, and
// training's feature extraction) catch that image's Error themselves, report it and count it.
#include <cxxopts.hpp>
#include <cstring>
#include <iostream>
#include <string>

#include "build_info.hpp"
#include "cli/commands.hpp"
#include "error.hpp"
#include "file_io.hpp"
#include "kernel_dispatch.hpp"

namespace {

using tinception::cli::kExitBadInput;
using tinception::cli::kExitFailure;

struct Command {
    const char* name;
    const char* summary;
    int (*run)(int argc, char** argv);
};

const Command kCommands[] = {
    {"train", "train a new final layer on a folder of category sub-folders", tinception::cli::run_train},
    {"guess", "classify images: 'label (score = 0.99636)' lines", tinception::cli::run_guess},
    {"guess-dir", "classify a folder, copying each image to OUT_DIR as <label>-<score>.<ext>",
     tinception::cli::run_guess_dir},
    {"info", "print the build, CPU features and kernels, or what a weight file or model holds",
     tinception::cli::run_info},
    {"embed", "write images' bottleneck features (binary float32 or CSV)", tinception::cli::run_embed},
    {"export", "write a trained model as one ONNX file, from the image to the softmax scores",
     tinception::cli::run_export},
    {"preprocess", "write images resized and scaled as a model's input (float32 NHWC)",
     tinception::cli::run_preprocess},
    {"bottlenecks", "fill the bottleneck cache for a data folder, or one shard of it (--shard I/N)",
     tinception::cli::run_bottlenecks},
    {"cache", "merge, verify, list or prune bottleneck cache folders", tinception::cli::run_cache},
    {"bench", "time the whole network per batch size and thread count, against the fp32 peak",
     tinception::cli::run_bench},
};

void print_usage(std::ostream& out) {
    out << "tinception " << tinception::build_info::version
        << ": retrain Inception v3's last layer on your own image categories.\n\n"
           "Usage: tinception COMMAND [OPTIONS...]\n\nCommands:\n";
    for (const Command& c : kCommands) out << "  " << c.name << std::string(12 - std::strlen(c.name), ' ') << c.summary << "\n";
    out << "\nRun 'tinception COMMAND --help' for a command's options.\n"
           "Options: --help, --version\n"
           "Exit codes: 0 success, 1 internal error or some items failed, 2 bad usage or bad input,\n"
           "3 train: test accuracy below --assert-accuracy-at-least.\n"
           "Environment: TINCEPTION_ISA=reference|eigen|avx2|avx512|neon forces a kernel set.\n";
}

}  // namespace

int main(int argc, char** argv) {
    // Ctrl-C or a kill mid-write removes the temp file being written (the final names are
    // only ever created complete, by rename or link).
    tinception::install_temp_file_cleanup_on_signals();
    if (argc < 2) {
        print_usage(std::cerr);
        return kExitBadInput;
    }
    const std::string first = argv[1];
    if (first == "--help" || first == "-h" || first == "help") {
        print_usage(std::cout);
        return 0;
    }
    try {
        if (first == "--version") {
            std::cout << "tinception " << tinception::build_info::version << " (kernels: "
                      << tinception::active_kernels().isa_name << ")\n";
            return 0;
        }
        for (const Command& c : kCommands)
            if (first == c.name) return c.run(argc - 1, argv + 1);
        std::cerr << "tinception: error: unknown command '" << first
                  << "' (try 'tinception --help')\n";
        return kExitBadInput;
    } catch (const tinception::Error& e) {
        std::cerr << "tinception: error: " << e.what() << "\n";
        const bool ours = e.kind() == tinception::ErrorKind::internal || e.kind() == tinception::ErrorKind::out_of_memory;
        return ours ? kExitFailure : kExitBadInput;
    } catch (const cxxopts::exceptions::exception& e) {
        std::cerr << "tinception: error: " << e.what() << "\n";
        return kExitBadInput;
    } catch (const std::bad_alloc&) {
        std::cerr << "tinception: error: out of memory\n";
        return kExitFailure;
    } catch (const std::exception& e) {
        std::cerr << "tinception: error: internal: " << e.what() << "\n";
        return kExitFailure;
    }
}
