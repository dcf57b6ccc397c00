// The bf16 table: the AVX-512 table with the bf16 convolution, only where this build holds
// both and the CPU runs AVX-512 BF16. Compiled without ISA flags.
#include "bf16/conv2d_bf16.hpp"
#include "cpu_features.hpp"

namespace tinception::kernels {

#if defined(TINCEPTION_BUILT_AVX512) && defined(TINCEPTION_BUILT_AVX512_BF16)
void set_bf16_conv2d(KernelTable& t);  // bf16/conv2d_bf16_avx512.cpp

const KernelTable* avx512_bf16_kernels() {
    const KernelTable* avx512 = avx512_kernels();
    if (!avx512 || !cpu_features().avx512bf16) return nullptr;
    static const KernelTable table = [avx512] {
        KernelTable t = *avx512;
        t.isa_name = "avx512_bf16";
        set_bf16_conv2d(t);
        return t;
    }();
    return &table;
}
#else
const KernelTable* avx512_bf16_kernels() { return nullptr; }
#endif

}  // namespace tinception::kernels
