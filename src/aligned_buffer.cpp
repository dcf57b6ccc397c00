// The library's checked aligned allocation; see aligned_buffer.hpp.
#include "aligned_buffer.hpp"

#include <cstdlib>
#include <string>

#include "error.hpp"

namespace tinception {

AlignedBuffer::AlignedBuffer(std::size_t bytes, const char* what) {
    const std::size_t rounded = round_up_64(bytes ? bytes : 1);
    if (rounded < bytes)
        throw Error(std::string("out of memory: ") + what + " would need more than the address space",
                    ErrorKind::out_of_memory);
    memory_.reset(std::aligned_alloc(64, rounded));
    if (!memory_)
        throw Error(std::string("out of memory: cannot allocate ") + std::to_string((rounded + (1 << 20) - 1) >> 20) +
                        " MiB for " + what,
                    ErrorKind::out_of_memory);
    size_ = rounded;
}

void AlignedBuffer::Free::operator()(void* p) const { std::free(p); }

}  // namespace tinception
