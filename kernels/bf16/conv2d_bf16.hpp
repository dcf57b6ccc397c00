// bf16 convolution: the fp32 Conv2dArgs interface, with inputs and weights rounded to bf16
// (nearest even) and products summed in fp32 pairs as vdpbf16ps does, in k order (ky, kx,
// ic), the odd element of each pair first; then fp32 bias and ReLU. Input and output stay
// fp32 tensors, so the rest of the network (pooling, concat) is the fp32 table's.
#pragma once
#include "kernel_table.hpp"

namespace tinception::kernels {

void conv2d_bf16_ref(const Conv2dArgs& a);

// The reference of the bf16 Winograd layers (winograd_bf16_avx512.cpp): the transform
// bf16/winograd_bf16_path.hpp picks, in fp32, and products as vdpbf16ps takes them. False, and
// no output, for a layer it picks none for.
bool conv2d_winograd_bf16_ref(const Conv2dArgs& a);

// The AVX-512 table with every convolution in bf16 (AVX-512 BF16), or nullptr when this build
// or this CPU lacks it.
const KernelTable* avx512_bf16_direct_kernels();
// Which layers --precision bf16 runs how: bumped with any change that moves its features (2:
// the 8x8 layers' Winograd in bf16, the stem in fp32; 3: every Winograd layer in bf16, by
// the transforms winograd_bf16_path.hpp picks; 4: the 147x147 3x3 layers in fp32), so cached
// bf16 bottlenecks of an earlier plan are not taken for this one's.
constexpr int kBf16PlanVersion = 4;

// Whether --precision bf16 runs this layer on the AVX-512 table in fp32 (winograd_bf16_path.hpp
// says which and why).
bool bf16_layer_runs_fp32(const Conv2dArgs& a);

// What --precision bf16 runs: the layers fp32 runs by Winograd by the bf16 Winograd
// (winograd_bf16_path.hpp), the layers bf16_layer_runs_fp32 names on the AVX-512 table in fp32,
// the rest in bf16 directly; nullptr where the above is.
const KernelTable* avx512_bf16_kernels();

}  // namespace tinception::kernels
