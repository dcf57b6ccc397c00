// 64-byte-aligned memory from one checked allocation: how the library gets memory for
// activations, packed weights and kernel scratch. Running out is an Error, never a null pointer.
#pragma once
#include <cstddef>
#include <memory>

namespace tinception {

class AlignedBuffer {
public:
    // huge: for buffers written whole soon after (activations, scratch, packed weights); from
    // 2 MiB up they start on a 2 MiB boundary and ask for transparent huge pages, so first
    // touching them costs a page fault per 2 MiB rather than per 4 KiB (on a virtual machine,
    // those faults were most of a one-image run's system time). Not for buffers filled piece
    // by piece on demand: a huge page is resident as soon as one byte of it is touched.
    enum class Pages { normal, huge };

    AlignedBuffer() = default;
    // At least `bytes` bytes (rounded up to 64), uninitialised. Throws Error of kind
    // out_of_memory naming `what` and the size when the allocation fails.
    AlignedBuffer(std::size_t bytes, const char* what, Pages pages = Pages::normal);

    void* data() const { return memory_.get(); }
    float* floats() const { return static_cast<float*>(memory_.get()); }
    std::size_t size() const { return size_; }

private:
    struct Free {
        void operator()(void* p) const;
    };
    std::unique_ptr<void, Free> memory_;
    std::size_t size_ = 0;
};

// `bytes` rounded up to the next multiple of 64, the alignment every buffer starts on.
constexpr std::size_t round_up_64(std::size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace tinception
