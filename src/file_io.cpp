// Whole-file reads and atomic writes through POSIX calls, so every failure has errno text.
#include "file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "error.hpp"

namespace tinception {
namespace {

std::string errno_text() { return std::strerror(errno); }

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// Temp-file slots the signal handler reads. A slot is free (0), being filled (1) or holds a
// path to remove (2); the handler only touches slots in state 2 and only calls unlink(2),
// which is async-signal-safe.
constexpr int kTempSlots = 64;
constexpr std::size_t kTempPathMax = 4096;
struct TempSlot {
    std::atomic<int> state{0};
    char path[kTempPathMax];
};
TempSlot g_temp_slots[kTempSlots];

extern "C" void remove_temp_files_and_reraise(int sig) {
    for (TempSlot& slot : g_temp_slots)
        if (slot.state.load() == 2) ::unlink(slot.path);
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

}  // namespace

TempFileGuard::TempFileGuard(const std::string& path) {
    if (path.size() >= kTempPathMax) return;
    for (int i = 0; i < kTempSlots; ++i) {
        int expected = 0;
        if (!g_temp_slots[i].state.compare_exchange_strong(expected, 1)) continue;
        std::memcpy(g_temp_slots[i].path, path.c_str(), path.size() + 1);
        g_temp_slots[i].state.store(2);
        slot_ = i;
        return;
    }
}

TempFileGuard::~TempFileGuard() {
    if (slot_ >= 0) g_temp_slots[slot_].state.store(0);
}

void install_temp_file_cleanup_on_signals() {
    struct sigaction action {};
    action.sa_handler = remove_temp_files_and_reraise;
    sigemptyset(&action.sa_mask);
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &action, nullptr);
}

std::string default_cache_dir(const std::string& name) {
    namespace fs = std::filesystem;
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return (fs::path(xdg) / "tinception" / name).string();
    if (const char* home = std::getenv("HOME"); home && *home)
        return (fs::path(home) / ".cache" / "tinception" / name).string();
    return (fs::temp_directory_path() / ("tinception-" + name)).string();
}

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw Error(path + ": cannot open: " + errno_text(), ErrorKind::unreadable);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw Error(path + ": cannot stat: " + errno_text(), ErrorKind::unreadable);
    if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory, not a file", ErrorKind::unreadable);
    std::vector<std::uint8_t> bytes;
    bytes.reserve(S_ISREG(st.st_mode) ? std::size_t(st.st_size) : 0);
    std::uint8_t buffer[1 << 16];
    for (;;) {
        const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw Error(path + ": read failed: " + errno_text(), ErrorKind::unreadable);
        }
        if (got == 0) break;
        bytes.insert(bytes.end(), buffer, buffer + got);
    }
    return bytes;
}

AtomicFileWriter::AtomicFileWriter(const std::string& path)
    : path_(path), temp_(path + ".tmp." + std::to_string(::getpid())) {
    guard_ = std::make_unique<TempFileGuard>(temp_);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(path_ + ": cannot create: " + errno_text());
}

AtomicFileWriter::~AtomicFileWriter() { discard(); }

void AtomicFileWriter::discard() {
    if (fd_ < 0) return;
    ::close(fd_);
    fd_ = -1;
    ::unlink(temp_.c_str());
}

void AtomicFileWriter::write(const void* data, std::size_t size) {
    if (fd_ < 0) throw Error(temp_ + ": write after the file was closed", ErrorKind::internal);
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    std::size_t done = 0;
    while (done < size) {
        const ssize_t put = ::write(fd_, bytes + done, size - done);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) {
            const std::string reason = put < 0 ? errno_text() : "no progress";
            discard();
            throw Error(path_ + ": write failed: " + reason, ErrorKind::internal);
        }
        done += std::size_t(put);
    }
    written_ += size;
}

void AtomicFileWriter::commit(bool replace_existing, Durability durability) {
    if (fd_ < 0) throw Error(temp_ + ": commit after the file was closed", ErrorKind::internal);
    if ((durability == Durability::fsync_each && ::fsync(fd_) != 0) || ::close(fd_) != 0) {
        const std::string reason = errno_text();
        fd_ = -1;
        ::unlink(temp_.c_str());
        throw Error(path_ + ": cannot flush: " + reason, ErrorKind::internal);
    }
    fd_ = -1;
    if (replace_existing) {
        if (::rename(temp_.c_str(), path_.c_str()) != 0) {
            const std::string reason = errno_text();
            ::unlink(temp_.c_str());
            throw Error(path_ + ": cannot rename into place: " + reason, ErrorKind::internal);
        }
        return;
    }
    const int linked = ::link(temp_.c_str(), path_.c_str());
    const int link_errno = errno;
    ::unlink(temp_.c_str());
    if (linked != 0 && link_errno == EEXIST)
        throw Error(path_ + " already exists; choose another name or pass --force to replace it");
    if (linked != 0)
        throw Error(path_ + ": cannot link into place: " + std::strerror(link_errno), ErrorKind::internal);
}

void write_file_atomically(const std::string& path, const void* data, std::size_t size, Durability durability) {
    AtomicFileWriter writer(path);
    writer.write(data, size);
    writer.commit(true, durability);
}

void sync_file_system(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot open to sync: " + errno_text(), ErrorKind::internal);
    const int synced = ::syncfs(fd);
    const std::string reason = synced != 0 ? errno_text() : "";
    ::close(fd);
    if (synced != 0) throw Error(path + ": cannot sync its file system: " + reason, ErrorKind::internal);
}

void write_files_together(const std::vector<FileContent>& files) {
    std::vector<std::unique_ptr<AtomicFileWriter>> writers;  // uncommitted ones remove their temp file
    for (const FileContent& f : files) {
        writers.push_back(std::make_unique<AtomicFileWriter>(f.path));
        writers.back()->write(f.data, f.size);
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
        try {
            writers[i]->commit();
        } catch (...) {
            for (std::size_t done = 0; done < i; ++done) ::unlink(files[done].path.c_str());
            throw;
        }
    }
}

void check_can_create(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    struct stat st {};
    if (::stat(folder.c_str(), &st) != 0)
        throw Error(path + ": cannot write there: folder " + folder + " does not exist");
    if (!S_ISDIR(st.st_mode)) throw Error(path + ": cannot write there: " + folder + " is not a folder");
    if (::access(folder.c_str(), W_OK | X_OK) != 0)
        throw Error(path + ": cannot write there: folder " + folder + " is not writable");
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) throw Error(path + ": is a folder, not a file");
}

}  // namespace tinception
