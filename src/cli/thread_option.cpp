#include "cli/thread_option.hpp"

#include "error.hpp"
#include "parallel/thread_pool.hpp"

namespace tinception::cli {

void add_threads_option(cxxopts::Options& options) {
    options.add_options()("threads", "worker threads; 0: all cores", cxxopts::value<int>()->default_value("0"));
}

void apply_threads_option(const cxxopts::ParseResult& args) {
    const int threads = args["threads"].as<int>();
    if (threads < 0) throw Error("--threads takes 0 (all cores) or a positive count, not " + std::to_string(threads));
    if (threads > 0) set_thread_count(threads);
}

}  // namespace tinception::cli
