// Scratch for a kernel table's convolutions: the kernels never allocate; their caller hands
// each call a workspace of the size the table declares (KernelTable::conv2d_workspace_size).
// A network keeps one per thread in its arena; Conv2dScratch and conv2d_once serve calls
// made outside a network (tests, benchmarks).
#pragma once
#include <cstddef>

#include "aligned_buffer.hpp"
#include "kernel_table.hpp"

namespace tinception {

// `count` workspaces of `bytes_each` bytes, one per thread: thread i (thread_index()) uses
// base + i * bytes_each.
struct Conv2dWorkspaces {
    unsigned char* base = nullptr;
    std::size_t bytes_each = 0;
    int count = 0;
    void* for_thread(int i) const { return bytes_each ? base + std::size_t(i) * bytes_each : nullptr; }
};

// Bytes one thread's workspace needs for `args` on `table`, a multiple of 64; 0 when the
// table's convolution needs none.
std::size_t conv2d_workspace_bytes(const kernels::KernelTable& table, const kernels::Conv2dArgs& args);

// Workspaces owned here, from one checked allocation.
class Conv2dScratch {
public:
    Conv2dScratch(std::size_t bytes_each, int threads);
    const Conv2dWorkspaces& workspaces() const { return workspaces_; }

private:
    AlignedBuffer memory_;
    Conv2dWorkspaces workspaces_;
};

// table.conv2d(args) on the calling thread, with a workspace allocated for this one call.
void conv2d_once(const kernels::KernelTable& table, kernels::Conv2dArgs args);

}  // namespace tinception
