// Sizing and allocating convolution workspaces; see conv2d_workspace.hpp.
#include "layers/conv2d_workspace.hpp"

#include <limits>

#include "error.hpp"

namespace tinception {

std::size_t conv2d_workspace_bytes(const kernels::KernelTable& table, const kernels::Conv2dArgs& args) {
    return table.conv2d_workspace_size ? round_up_64(table.conv2d_workspace_size(args)) : 0;
}

Conv2dScratch::Conv2dScratch(std::size_t bytes_each, int threads) {
    const std::size_t count = std::size_t(threads > 1 ? threads : 1);
    bytes_each = round_up_64(bytes_each);
    if (bytes_each > std::numeric_limits<std::size_t>::max() / count)
        throw Error("out of memory: convolution scratch would need more than the address space",
                    ErrorKind::out_of_memory);
    if (bytes_each == 0) return;
    memory_ = AlignedBuffer(bytes_each * count, "convolution scratch", AlignedBuffer::Pages::huge);
    workspaces_.base = static_cast<unsigned char*>(memory_.data());
    workspaces_.bytes_each = bytes_each;
    workspaces_.count = int(count);
}

void conv2d_once(const kernels::KernelTable& table, kernels::Conv2dArgs args) {
    const Conv2dScratch scratch(conv2d_workspace_bytes(table, args), 1);
    args.workspace = scratch.workspaces().for_thread(0);
    table.conv2d(args);
}

}  // namespace tinception
