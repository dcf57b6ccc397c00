// A whole file mapped read-only into memory: owns the mapping, unmaps it on destruction.
// Movable, not copyable; an empty file maps to no bytes rather than failing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace tinception {

// Which file a mapping holds, from the fstat of the descriptor it was mapped from: a file
// replaced, rewritten or touched since has another identity (rename gives a new inode; a
// write changes the modification and change times).
struct FileIdentity {
    std::uint64_t device = 0, inode = 0, size = 0;
    std::int64_t modified_ns = 0, changed_ns = 0;
    bool operator==(const FileIdentity& o) const {
        return device == o.device && inode == o.inode && size == o.size && modified_ns == o.modified_ns &&
               changed_ns == o.changed_ns;
    }
};

class MappedFile {
public:
    MappedFile() = default;
    // Throws tinception::Error naming the file and the system's reason.
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }
    const FileIdentity& identity() const { return identity_; }
    // Drops the mapped pages from this process's resident set (madvise MADV_DONTNEED); they
    // stay in the page cache and come back unchanged, without disk reads, when touched again.
    void drop_resident_pages() const noexcept;
    // Maps the pages of bytes [offset, offset + bytes) into this process at once (madvise
    // MADV_POPULATE_READ) where the system can, instead of a page fault per few pages on first
    // reading; a hint, which changes nothing when refused.
    void prefault(std::size_t offset, std::size_t bytes) const noexcept;

private:
    void unmap() noexcept;

    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    FileIdentity identity_;
};

}  // namespace tinception
