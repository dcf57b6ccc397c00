// MappedFile through open/fstat/mmap; the descriptor is closed as soon as the mapping exists.
#include "weights/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "error.hpp"

namespace tinception {

MappedFile::MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno), ErrorKind::unreadable);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw Error(path + ": cannot stat: " + std::strerror(err), ErrorKind::unreadable);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(path + ": is not a regular file", ErrorKind::unreadable);
    }
    identity_ = {std::uint64_t(st.st_dev), std::uint64_t(st.st_ino), std::uint64_t(st.st_size),
                 std::int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                 std::int64_t(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec};
    if (st.st_size > 0) {
        void* p = ::mmap(nullptr, std::size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw Error(path + ": cannot map into memory: " + std::strerror(err), ErrorKind::unreadable);
        }
        data_ = static_cast<const std::uint8_t*>(p);
        size_ = std::size_t(st.st_size);
    }
    ::close(fd);
}

MappedFile::~MappedFile() { unmap(); }

void MappedFile::drop_resident_pages() const noexcept {
    if (data_) ::madvise(const_cast<std::uint8_t*>(data_), size_, MADV_DONTNEED);  // a hint: failure changes nothing
}

void MappedFile::prefault(std::size_t offset, std::size_t bytes) const noexcept {
#if defined(MADV_POPULATE_READ)
    if (!data_ || offset >= size_) return;
    bytes = std::min(bytes, size_ - offset);
    const std::uintptr_t page = std::uintptr_t(::sysconf(_SC_PAGESIZE));
    const std::uintptr_t begin = std::uintptr_t(data_ + offset) / page * page;
    ::madvise(reinterpret_cast<void*>(begin), std::uintptr_t(data_ + offset + bytes) - begin, MADV_POPULATE_READ);
#else
    (void)offset;
    (void)bytes;
#endif
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      identity_(std::exchange(other.identity_, {})) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        unmap();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        identity_ = std::exchange(other.identity_, {});
    }
    return *this;
}

void MappedFile::unmap() noexcept {
    if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
    data_ = nullptr;
    size_ = 0;
}

}  // namespace tinception
