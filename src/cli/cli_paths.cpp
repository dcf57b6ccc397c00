// Default paths for the command line.
#include "cli/cli_paths.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "error.hpp"
#include "file_io.hpp"
#include "classify/classifier_model.hpp"

namespace tinception::cli {
namespace {

namespace fs = std::filesystem;
constexpr const char* kWeightsRelative = "weights/inception_v3.tcw";

}  // namespace

std::string resolve_weights_path(const std::string& given) {
    if (!given.empty()) return given;
    if (const char* env = std::getenv("TINCEPTION_WEIGHTS"); env && *env) return env;
    std::error_code ec;
    if (fs::exists(kWeightsRelative, ec)) return kWeightsRelative;
    // build/src/tinception -> the source tree's weights/ two levels up
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path beside = exe.parent_path().parent_path().parent_path() / kWeightsRelative;
        if (fs::exists(beside, ec)) return beside.string();
    }
    throw Error("no weight file found: pass --weights FILE, set TINCEPTION_WEIGHTS, or run "
                "weights/fetch_weights.sh to make weights/inception_v3.tcw");
}

std::vector<std::string> weight_file_candidates(const std::string& model_path) {
    std::vector<std::string> candidates{recorded_weights_location(model_path, load_classifier_model(model_path))};
    try {
        const std::string fallback = resolve_weights_path("");
        if (fallback != candidates[0]) candidates.push_back(fallback);
    } catch (const Error&) {
        // no default weight file on this machine: only the recorded place is tried
    }
    return candidates;
}

std::string weights_for_model(const std::string& model_path, const std::string& given) {
    if (!given.empty()) return given;
    const std::vector<std::string> candidates = weight_file_candidates(model_path);
    std::error_code ec;
    for (const std::string& c : candidates)
        if (fs::is_regular_file(c, ec)) return c;
    std::string tried;
    for (const std::string& c : candidates) tried += (tried.empty() ? "" : ", ") + c;
    throw Error(model_path + ": its weight file is not found (looked at " + tried +
                "); pass --weights FILE with the weights it was trained on");
}

std::string default_bottleneck_dir() { return default_cache_dir("bottlenecks"); }

std::string absolute_path(const std::string& path) {
    std::error_code ec;
    const fs::path absolute = fs::absolute(path, ec);
    return ec ? path : absolute.lexically_normal().string();
}

std::string with_suffix(const std::string& path, const std::string& suffix) {
    fs::path p(path);
    p.replace_extension();
    return p.string() + suffix;
}

}  // namespace tinception::cli
