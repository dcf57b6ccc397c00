// bf16 convolution: the fp32 Conv2dArgs interface, with inputs and weights rounded to bf16
// (nearest even) and products summed in fp32 pairs as vdpbf16ps does, in k order (ky, kx,
// ic), the odd element of each pair first; then fp32 bias and ReLU. Input and output stay
// fp32 tensors, so the rest of the network (pooling, concat) is the fp32 table's.
#pragma once
#include "kernel_table.hpp"

namespace tinception::kernels {

void conv2d_bf16_ref(const Conv2dArgs& a);

// The AVX-512 table with every convolution in bf16 (AVX-512 BF16), or nullptr when this build
// or this CPU lacks it.
const KernelTable* avx512_bf16_direct_kernels();
// What --precision bf16 runs: the same, but the layers the AVX-512 table runs by Winograd stay
// on it, in fp32 (bf16_tables.cpp says why); nullptr where the above is.
const KernelTable* avx512_bf16_kernels();

}  // namespace tinception::kernels
