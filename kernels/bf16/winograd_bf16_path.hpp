// Which Winograd transform a bf16 layer runs, for the AVX-512 kernel and its reference alike.
// Every stride-1 3x3 layer takes F(2x2, 3x3), where fp32 runs the wider ones by F(4x4, 3x3), and
// the 1x7 and 7x1 layers take F(2, 7), where fp32 runs F(4, 7): the larger tiles' output
// transforms amplify the bf16 rounding of the transformed inputs (README, bf16), the smaller
// ones keep the features within the target. The 5x5 and 1x3 layers take the transforms fp32 takes,
// F(2x2, 5x5) and F(4, 3). Layers that stay in fp32 (below) run none.
#pragma once
#include "conv2d_path.hpp"

namespace tinception::kernels {
namespace {

enum class Bf16Winograd { none, f2x2_3x3, f2x2_5x5, f4_3, f2_7 };

// The layers --precision bf16 leaves to the fp32 table: an odd in_c (vdpbf16ps pairs input
// channels; bf16_tables.cpp says why the RGB stem stays fp32), and the stride-1 3x3 layers
// fp32 runs by F(4x4, 3x3) from at most 32 input channels (the 147x147 stem layers): with
// F(2x2, 3x3) bf16 does 1.8x the products at twice the rate, and with so few channels its
// transforms weigh more, so it took 1.16-1.22x fp32's time there (batch 8, two threads).
constexpr int kBf16F4x4MaxFp32InC = 32;
inline bool bf16_stays_fp32(const Conv2dArgs& a) {
    return a.in_c % 2 != 0 ||
           (conv_path(a, kAvx512WinogradMinInC) == ConvPath::winograd_f4x4_3x3 && a.in_c <= kBf16F4x4MaxFp32InC);
}

inline Bf16Winograd bf16_winograd(const Conv2dArgs& a) {
    if (bf16_stays_fp32(a)) return Bf16Winograd::none;
    switch (conv_path(a, kAvx512WinogradMinInC)) {
    case ConvPath::winograd_f2x2_3x3:
    case ConvPath::winograd_f4x4_3x3: return Bf16Winograd::f2x2_3x3;
    case ConvPath::winograd_f2x2_5x5: return Bf16Winograd::f2x2_5x5;
    case ConvPath::winograd_f4_3: return Bf16Winograd::f4_3;
    case ConvPath::winograd_f4_7: return Bf16Winograd::f2_7;
    case ConvPath::gemm: break;
    }
    return Bf16Winograd::none;
}

}  // namespace
}  // namespace tinception::kernels
