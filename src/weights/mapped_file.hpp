// A whole file mapped read-only into memory: owns the mapping, unmaps it on destruction.
// Movable, not copyable; an empty file maps to no bytes rather than failing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace tinception {

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

private:
    void unmap() noexcept;

    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace tinception
