// No-overwrite writes by linking a finished temporary file to the first free name.
#include "classify/output_naming.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "error.hpp"
#include "file_io.hpp"

namespace tinception {
namespace {

// "a.b.jpg" -> {"a.b", ".jpg"}; "noext" -> {"noext", ""}; ".hidden" -> {".hidden", ""}
std::pair<std::string, std::string> split_extension(const std::string& name) {
    const std::size_t dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0) return {name, ""};
    return {name.substr(0, dot), name.substr(dot)};
}

std::string base_name(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string classified_file_name(const std::string& label, float score, const std::string& original_name) {
    char score_text[32];
    std::snprintf(score_text, sizeof score_text, "%.5f", double(score));
    return label + "-" + score_text + split_extension(base_name(original_name)).second;
}

std::string write_new_file(const std::string& directory, const std::string& file_name,
                           const std::vector<std::uint8_t>& bytes) {
    const std::string temp = directory + "/.tinception-partial-" + std::to_string(::getpid());
    const TempFileGuard guard(temp);  // removed by SIGINT/SIGTERM until linked and unlinked
    write_file_atomically(temp, bytes.data(), bytes.size());
    const auto [stem, ext] = split_extension(file_name);
    for (int n = 1; n < 100000; ++n) {
        const std::string candidate = directory + "/" + (n == 1 ? file_name : stem + "-" + std::to_string(n) + ext);
        if (::link(temp.c_str(), candidate.c_str()) == 0) {
            ::unlink(temp.c_str());
            return candidate;
        }
        if (errno != EEXIST) {
            const std::string reason = std::strerror(errno);
            ::unlink(temp.c_str());
            throw Error(candidate + ": cannot create: " + reason, ErrorKind::internal);
        }
    }
    ::unlink(temp.c_str());
    throw Error(directory + ": no free name for " + file_name, ErrorKind::internal);
}

}  // namespace tinception
