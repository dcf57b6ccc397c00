// `tinception info [MODEL]`: the build and the machine, or what a weight file holds.
#include <cxxopts.hpp>
#include <iostream>

#include "build_info.hpp"
#include "cli/commands.hpp"
#include "cpu_features.hpp"
#include "kernel_dispatch.hpp"

namespace tinception::cli {

int run_info(int argc, char** argv) {
    cxxopts::Options options("tinception info",
                             "Print version, compiler, build type, CPU features and kernel sets.");
    options.add_options()("h,help", "show this help");
    const auto args = options.parse(argc, argv);
    if (args.count("help")) {
        std::cout << options.help();
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
