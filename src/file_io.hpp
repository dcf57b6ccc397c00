// Whole-file reads and atomic whole-file writes, with errors that name the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinception {

std::vector<std::uint8_t> read_file_bytes(const std::string& path);

// Writes to `path.tmp.<pid>` and renames over `path`, so a reader never sees half a file.
// While it writes, the temp file is registered for removal on SIGINT/SIGTERM (see below).
void write_file_atomically(const std::string& path, const void* data, std::size_t size);

// Keeps `path` on the list of temporary files that the signal handler removes, for the
// guard's lifetime. Never throws; with every slot taken (64 files being written at once)
// or a path over 4095 bytes the file is simply not registered and a signal leaves it, still
// under its temporary name.
class TempFileGuard {
public:
    explicit TempFileGuard(const std::string& path);
    ~TempFileGuard();
    TempFileGuard(const TempFileGuard&) = delete;
    TempFileGuard& operator=(const TempFileGuard&) = delete;

private:
    int slot_ = -1;
};

// Installs SIGINT, SIGTERM and SIGHUP handlers that unlink every registered temp file,
// then re-raise the signal with its default action. The library never installs handlers
// on its own: only the command-line program calls this. SIGKILL cannot be caught; temp
// files it leaves keep their temporary names and are never read as finished files.
void install_temp_file_cleanup_on_signals();

}  // namespace tinception
