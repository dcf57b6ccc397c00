// Running the tinception program from tests: a subprocess with its exit code, stdout and
// stderr captured, and the paths the test environment must provide.
#pragma once
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tinception::testing {

// A missing input is a failure, never a skip: a suite that quietly runs nothing looks green.
inline std::string required_env_path(const char* variable) {
    const char* value = std::getenv(variable);
    REQUIRE_MESSAGE((value && *value), std::string(variable) << " is not set; run tools/test.sh, which sets it");
    REQUIRE_MESSAGE(std::filesystem::exists(value), std::string(variable) << "=" << value << " does not exist; run tools/test.sh");
    return value;
}

// A folder the environment names but the program creates when missing (a cache): set, not
// necessarily there yet, whichever test happens to run first.
inline std::string required_env_folder_to_create(const char* variable) {
    const char* value = std::getenv(variable);
    REQUIRE_MESSAGE((value && *value), std::string(variable) << " is not set; run tools/test.sh, which sets it");
    return value;
}

struct CommandResult {
    int exit_code = -1;  // -1 when killed by a signal
    std::string out;
    std::string err;
};

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs the program `exe` with `args` in `cwd` (or the current folder), no shell involved.
inline CommandResult run_program(const std::string& exe, const std::vector<std::string>& args,
                                 const std::string& cwd = "") {
    const std::string capture = std::filesystem::temp_directory_path() /
                                ("tinception-cli-" + std::to_string(::getpid()));
    const std::string out_path = capture + ".out", err_path = capture + ".err";
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(127);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(127);
        std::vector<char*> argv{const_cast<char*>(exe.c_str())};
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execvp(exe.c_str(), argv.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    std::filesystem::remove(out_path);
    std::filesystem::remove(err_path);
    return r;
}

// Runs TINCEPTION_EXE with `args` in `cwd` (or the current folder).
inline CommandResult run_tinception(const std::vector<std::string>& args, const std::string& cwd = "") {
    return run_program(required_env_path("TINCEPTION_EXE"), args, cwd);
}

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace tinception::testing
