// The reference backward table, and the SIMD ones handed out only when the CPU runs them.
// Compiled without ISA flags: the one place that checks before any backward ISA code runs.
#include "backward/backward_kernels.hpp"

namespace tinception::kernels {

const BackwardKernelTable& avx2_backward_table_unchecked();
const BackwardKernelTable& avx512_backward_table_unchecked();

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

// The forward table's getter has checked the build and the CPU for the same ISA.
#ifdef TINCEPTION_BUILT_AVX2
const BackwardKernelTable* avx2_backward_kernels() {
    return avx2_kernels() ? &avx2_backward_table_unchecked() : nullptr;
}
#else
const BackwardKernelTable* avx2_backward_kernels() { return nullptr; }
#endif

#ifdef TINCEPTION_BUILT_AVX512
const BackwardKernelTable* avx512_backward_kernels() {
    return avx512_kernels() ? &avx512_backward_table_unchecked() : nullptr;
}
#else
const BackwardKernelTable* avx512_backward_kernels() { return nullptr; }
#endif

int available_backward_tables(const BackwardKernelTable* tables[3]) {
    int count = 0;
    tables[count++] = &reference_backward_kernels();
    if (const BackwardKernelTable* t = avx2_backward_kernels()) tables[count++] = t;
    if (const BackwardKernelTable* t = avx512_backward_kernels()) tables[count++] = t;
    return count;
}

}  // namespace tinception::kernels
