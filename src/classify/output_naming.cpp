// No-overwrite writes by linking a finished file to the first free name.
#include "classify/output_naming.hpp"

#include <fcntl.h>
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

// Hard-links `source` as `file_name` in `directory`, or under the first free numbered name.
// Returns the path, or "" with errno set when link(2) fails for a reason other than a taken name.
std::string link_to_free_name(const std::string& source, const std::string& directory, const std::string& file_name) {
    const auto [stem, ext] = split_extension(file_name);
    for (int n = 1; n < 100000; ++n) {
        const std::string candidate = directory + "/" + (n == 1 ? file_name : stem + "-" + std::to_string(n) + ext);
        if (::linkat(AT_FDCWD, source.c_str(), AT_FDCWD, candidate.c_str(), AT_SYMLINK_FOLLOW) == 0) return candidate;
        if (errno != EEXIST) return "";
    }
    throw Error(directory + ": no free name for " + file_name, ErrorKind::internal);
}

}  // namespace

std::string safe_name_for_label(const std::string& label) {
    if (label.empty() || label == "." || label == "..") return "_";
    std::string name = label;
    for (char& ch : name)
        if (ch == '/' || ch == '\0') ch = '_';
    return name;
}

std::string classified_file_name(const std::string& label, float score, const std::string& original_name) {
    char score_text[32];
    std::snprintf(score_text, sizeof score_text, "%.5f", double(score));
    return safe_name_for_label(label) + "-" + score_text + split_extension(base_name(original_name)).second;
}

std::string write_new_file(const std::string& directory, const std::string& file_name,
                           const std::vector<std::uint8_t>& bytes) {
    const std::string temp = directory + "/.tinception-partial-" + std::to_string(::getpid());
    const TempFileGuard guard(temp);  // removed by SIGINT/SIGTERM until linked and unlinked
    write_file_atomically(temp, bytes.data(), bytes.size());
    const std::string written = link_to_free_name(temp, directory, file_name);
    const int link_errno = errno;
    ::unlink(temp.c_str());
    if (written.empty())
        throw Error(directory + "/" + file_name + ": cannot create: " + std::strerror(link_errno), ErrorKind::internal);
    return written;
}

std::string link_or_write_new_file(const std::string& source, const std::string& directory,
                                   const std::string& file_name, const std::vector<std::uint8_t>& bytes,
                                   bool* linked) {
    const std::string written = link_to_free_name(source, directory, file_name);
    *linked = !written.empty();
    if (*linked) return written;
    // EXDEV: another file system; EPERM/ENOTSUP: one without hard links (FAT, some FUSE);
    // EMLINK: the file has too many links already. Each still allows a copy.
    if (errno == EXDEV || errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == EMLINK)
        return write_new_file(directory, file_name, bytes);
    throw Error(directory + "/" + file_name + ": cannot create: " + std::strerror(errno), ErrorKind::internal);
}

}  // namespace tinception
