// Whole-file reads and atomic whole-file writes, with errors that name the file.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tinception {

std::vector<std::uint8_t> read_file_bytes(const std::string& path);

// $XDG_CACHE_HOME/tinception/<name>, else ~/.cache/tinception/<name>, else
// tinception-<name> in the system's temporary folder: where every cache of the program lives.
std::string default_cache_dir(const std::string& name);

// Writes to `path.tmp.<pid>` and renames over `path`, so a reader never sees half a file.
// While it writes, the temp file is registered for removal on SIGINT/SIGTERM (see below).
// Durability::caller_syncs skips the fsync: for a caller that writes many files and syncs
// the file system once at the end (sync_file_system).
enum class Durability { fsync_each, caller_syncs };
void write_file_atomically(const std::string& path, const void* data, std::size_t size,
                           Durability durability = Durability::fsync_each);

// syncfs(2) of the file system holding `path`; throws Error naming it on failure.
void sync_file_system(const std::string& path);

// Several files that appear together or not at all: every one is written to its temporary
// name first, and only when all are written are they renamed into place. Errors name the
// final path, never the temporary one.
struct FileContent {
    std::string path;
    const void* data;
    std::size_t size;
};
void write_files_together(const std::vector<FileContent>& files);

// Throws Error naming `path` when it could not be created: its folder is missing, not a
// folder or not writable, or `path` is a folder. For checking every output before long work.
void check_can_create(const std::string& path);

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

// write_file_atomically for a file written piece by piece: the pieces go to
// `path.tmp.<pid>` (guarded as above), which commit() flushes and moves to `path`. Destroyed uncommitted (an error midway), it removes
// the temp file, so `path` is either complete or untouched.
class AtomicFileWriter {
public:
    explicit AtomicFileWriter(const std::string& path);
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    void write(const void* data, std::size_t size);
    std::uint64_t bytes_written() const { return written_; }
    // replace_existing false: refuses (Error) when `path` exists by then, using link(2),
    // so a file created meanwhile is never replaced either.
    void commit(bool replace_existing = true, Durability durability = Durability::fsync_each);

private:
    void discard();

    std::string path_, temp_;
    int fd_ = -1;
    std::uint64_t written_ = 0;
    std::unique_ptr<TempFileGuard> guard_;
};

// Installs SIGINT, SIGTERM and SIGHUP handlers that unlink every registered temp file,
// then re-raise the signal with its default action. The library never installs handlers
// on its own: only the command-line program calls this. SIGKILL cannot be caught; temp
// files it leaves keep their temporary names and are never read as finished files.
void install_temp_file_cleanup_on_signals();

}  // namespace tinception
