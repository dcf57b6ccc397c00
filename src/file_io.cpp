// Whole-file reads and atomic writes through POSIX calls, so every failure has errno text.
#include "file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

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
    int release() {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_;
};

}  // namespace

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw Error(path + ": cannot open: " + errno_text());
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw Error(path + ": cannot stat: " + errno_text());
    if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory, not a file");
    std::vector<std::uint8_t> bytes;
    bytes.reserve(S_ISREG(st.st_mode) ? std::size_t(st.st_size) : 0);
    std::uint8_t buffer[1 << 16];
    for (;;) {
        const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw Error(path + ": read failed: " + errno_text());
        }
        if (got == 0) break;
        bytes.insert(bytes.end(), buffer, buffer + got);
    }
    return bytes;
}

void write_file_atomically(const std::string& path, const void* data, std::size_t size) {
    const std::string temp = path + ".tmp." + std::to_string(::getpid());
    FileDescriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) throw Error(temp + ": cannot create: " + errno_text());
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    std::size_t written = 0;
    while (written < size) {
        const ssize_t put = ::write(fd.get(), bytes + written, size - written);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) {
            const std::string reason = errno_text();
            ::unlink(temp.c_str());
            throw Error(temp + ": write failed: " + reason, ErrorKind::internal);
        }
        written += std::size_t(put);
    }
    if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
        const std::string reason = errno_text();
        ::unlink(temp.c_str());
        throw Error(temp + ": cannot flush: " + reason, ErrorKind::internal);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const std::string reason = errno_text();
        ::unlink(temp.c_str());
        throw Error(path + ": cannot rename into place: " + reason, ErrorKind::internal);
    }
}

}  // namespace tinception
