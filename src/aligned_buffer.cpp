// The library's checked aligned allocation; see aligned_buffer.hpp.
#include "aligned_buffer.hpp"

#include <cstdlib>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "error.hpp"

namespace tinception {

namespace {

constexpr std::size_t kHugePageBytes = std::size_t(2) << 20;

void* allocate(std::size_t rounded, AlignedBuffer::Pages pages) {
    if (pages == AlignedBuffer::Pages::normal || rounded < kHugePageBytes) return std::aligned_alloc(64, rounded);
    const std::size_t whole_pages = (rounded + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    if (whole_pages < rounded) return nullptr;
    void* p = std::aligned_alloc(kHugePageBytes, whole_pages);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p) ::madvise(p, whole_pages, MADV_HUGEPAGE);  // a hint: failure changes nothing
#endif
    return p;
}

}  // namespace

AlignedBuffer::AlignedBuffer(std::size_t bytes, const char* what, Pages pages) {
    const std::size_t rounded = round_up_64(bytes ? bytes : 1);
    if (rounded < bytes)
        throw Error(std::string("out of memory: ") + what + " would need more than the address space",
                    ErrorKind::out_of_memory);
    memory_.reset(allocate(rounded, pages));
    if (!memory_)
        throw Error(std::string("out of memory: cannot allocate ") + std::to_string((rounded + (1 << 20) - 1) >> 20) +
                        " MiB for " + what,
                    ErrorKind::out_of_memory);
    size_ = rounded;
}

void AlignedBuffer::Free::operator()(void* p) const { std::free(p); }

}  // namespace tinception
