// Default paths for the command line.
#include "cli/cli_paths.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "error.hpp"

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

std::string default_bottleneck_dir() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return (fs::path(xdg) / "tinception" / "bottlenecks").string();
    if (const char* home = std::getenv("HOME"); home && *home)
        return (fs::path(home) / ".cache" / "tinception" / "bottlenecks").string();
    return (fs::temp_directory_path() / "tinception-bottlenecks").string();
}

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
