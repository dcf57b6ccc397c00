// The one exception type the library throws: a complete sentence naming what failed.
#pragma once
#include <stdexcept>
#include <string>

namespace tinception {

// kind separates a user's bad input, a file that cannot be opened or read among it (exit
// code 2 at the command line; the C API tells the two apart), from everything else (exit code 1);
// out_of_memory is an allocation that failed (exit code 1; TINCEPTION_OUT_OF_MEMORY in the C API).
enum class ErrorKind { bad_input, unreadable, internal, out_of_memory };

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, ErrorKind kind = ErrorKind::bad_input)
        : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

private:
    ErrorKind kind_;
};

// The one form of a skipped-file warning: "PATH: skipped, REASON", from an Error's text that
// usually starts with "PATH: " already.
inline std::string reason_without_path(const std::string& path, const std::string& error) {
    const std::string prefix = path + ": ";
    return error.compare(0, prefix.size(), prefix) == 0 ? error.substr(prefix.size()) : error;
}
inline std::string skipped_message(const std::string& path, const std::string& error) {
    return path + ": skipped, " + reason_without_path(path, error);
}

}  // namespace tinception
