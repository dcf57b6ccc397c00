// `tinception info [MODEL]`: the build and the machine, or what a weight file holds.
#include <cxxopts.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "build_info.hpp"
#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "cpu_features.hpp"
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
    char crc[16];
    std::snprintf(crc, sizeof crc, "%08x", unsigned(file.checksum()));
    std::cout << "file:         " << path << "\n"
              << "source:       " << (source == meta.end() ? "(not recorded)" : source->second) << "\n"
              << "format:       tcw version " << file.format_version() << "\n"
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
              << "checksum:     verified (crc32 of table and data " << crc << ")\n";
}

}  // namespace

int run_info(int argc, char** argv) {
    cxxopts::Options options("tinception info",
                             "Print version, compiler, build type, CPU features and kernel sets;\n"
                             "with MODEL, what a .tcw weight file holds, its checksums verified.");
    options.add_options()("h,help", "show this help");
    options.positional_help("[MODEL]");
    const Arguments parsed = parse_arguments(options, argc, argv, 0, 1, "info [MODEL]");
    const cxxopts::ParseResult& args = parsed.options;
    if (args.count("help")) {
        std::cout << options.help();
        return kExitOk;
    }
    if (!parsed.positional.empty()) {
        print_weight_file(parsed.positional[0]);
        return kExitOk;
    }
    std::cout << "tinception " << build_info::version << "\n"
              << "compiler:     " << build_info::compiler << "\n"
              << "build type:   " << build_info::build_type << "\n"
              << "cpu features: " << kernels::describe(kernels::cpu_features()) << "\n"
              << "kernel sets:  ";
    for (const kernels::KernelTable* t : available_kernel_tables()) std::cout << t->isa_name << " ";
    std::cout << "\nactive:       " << active_kernels().isa_name << "\n";
    return kExitOk;
}

}  // namespace tinception::cli
