// The reference backward table, and the SIMD ones handed out only when the CPU runs them.
// Compiled without ISA flags: the one place that checks before any backward ISA code runs.
#include "backward/backward_kernels.hpp"

namespace tinception::kernels {

const BackwardKernelTable& reference_backward_kernels() {
    static const BackwardKernelTable table = [] {
        BackwardKernelTable t;
        t.isa_name = "reference";
        t.conv2d_backward = conv2d_backward_ref;
        t.maxpool2d_backward = maxpool2d_backward_ref;
        t.avgpool2d_backward = avgpool2d_backward_ref;
        t.global_avgpool_backward = global_avgpool_backward_ref;
        t.dense_softmax_backward = dense_softmax_backward_ref;
        return t;
    }();
    return table;
}

int available_backward_tables(const BackwardKernelTable* tables[3]) {
    int count = 0;
    tables[count++] = &reference_backward_kernels();
    return count;
}

}  // namespace tinception::kernels
