// Which path a SIMD table's convolution takes, in plain C++ with no ISA code, so that a test
// can ask it even for a table this CPU cannot run. A layer's path follows from its kernel,
// stride, in_c and width, all of which a row band or channel group keeps, so packing and every
// cut of a layer agree. Internal linkage, like conv2d_gemm_common.hpp.
#pragma once
#include "conv2d_gemm_common.hpp"
#include "kernel_table.hpp"

namespace tinception::kernels {
namespace {

// Below this many input channels Winograd's transforms cost what its GEMMs save: on AVX2,
// measured on F(2x2, 3x3), 32 -> 32 at 147x147 breaks even and 17 -> 33 is slower; on
// AVX-512 Winograd pays from the first channel.
constexpr int kAvx2WinogradMinInC = 32;
constexpr int kAvx512WinogradMinInC = 1;
// NEON takes AVX2's threshold: both run 8-float panels through FMA pipes of similar width, and
// no ARM hardware here measures a better one.
constexpr int kNeonWinogradMinInC = 32;

// Below this width a 3x3 layer's 4x4 tiles are too few: the 8x8 layers would read weights
// 36/9 the kernel's size for four tiles per image, and F(2x2, 3x3) is faster there.
constexpr int kWinogradF4x4_3x3MinWidth = 16;

// One path per transform; the direct GEMM takes what no transform covers.
enum class ConvPath { gemm, winograd_f2x2_3x3, winograd_f4x4_3x3, winograd_f2x2_5x5, winograd_f4_3, winograd_f4_7 };

inline bool stride_1(const Conv2dArgs& a) { return a.stride_h == 1 && a.stride_w == 1; }

// F(4x4, 3x3) takes the 3x3 stride-1 layers at least kWinogradF4x4_3x3MinWidth wide,
// F(2x2, 3x3) the narrower ones. The width is the whole layer's, which a cut keeps.
inline bool winograd_f4x4_3x3_applies(const Conv2dArgs& a) {
    return a.kernel_h == 3 && a.kernel_w == 3 && stride_1(a) && a.out_w >= kWinogradF4x4_3x3MinWidth;
}
inline bool winograd_f2x2_3x3_applies(const Conv2dArgs& a) {
    return a.kernel_h == 3 && a.kernel_w == 3 && stride_1(a);
}
inline bool winograd_f2x2_5x5_applies(const Conv2dArgs& a) {
    return a.kernel_h == 5 && a.kernel_w == 5 && stride_1(a);
}
// F(4, r) along the kernel's axis of a 1xr or rx1 stride-1 layer.
inline bool winograd_1d_applies(const Conv2dArgs& a, int r) {
    return stride_1(a) && ((a.kernel_h == 1 && a.kernel_w == r) || (a.kernel_w == 1 && a.kernel_h == r));
}
inline bool winograd_f4_3_applies(const Conv2dArgs& a) { return winograd_1d_applies(a, 3); }
inline bool winograd_f4_7_applies(const Conv2dArgs& a) { return winograd_1d_applies(a, 7); }

inline ConvPath conv_path(const Conv2dArgs& a, int winograd_min_in_c) {
    if (a.in_c < winograd_min_in_c) return ConvPath::gemm;
    if (winograd_f4x4_3x3_applies(a)) return ConvPath::winograd_f4x4_3x3;
    if (winograd_f2x2_3x3_applies(a)) return ConvPath::winograd_f2x2_3x3;
    if (winograd_f2x2_5x5_applies(a)) return ConvPath::winograd_f2x2_5x5;
    if (winograd_f4_3_applies(a)) return ConvPath::winograd_f4_3;
    if (winograd_f4_7_applies(a)) return ConvPath::winograd_f4_7;
    return ConvPath::gemm;
}

// Every name conv_path_name gives: the GEMM's three ways to its A matrix, then the transforms.
constexpr const char* kConvPathNames[] = {"gemm_in_place",     "gemm_rows_in_place", "gemm_im2col",
                                          "winograd_f2x2_3x3", "winograd_f4x4_3x3",  "winograd_f2x2_5x5",
                                          "winograd_f4_3",     "winograd_f4_7"};

// The code a call runs, by name: what a table's conv2d_path entry reports.
inline const char* conv_path_name(const Conv2dArgs& a, int winograd_min_in_c) {
    switch (conv_path(a, winograd_min_in_c)) {
    case ConvPath::winograd_f2x2_3x3: return "winograd_f2x2_3x3";
    case ConvPath::winograd_f4x4_3x3: return "winograd_f4x4_3x3";
    case ConvPath::winograd_f2x2_5x5: return "winograd_f2x2_5x5";
    case ConvPath::winograd_f4_3: return "winograd_f4_3";
    case ConvPath::winograd_f4_7: return "winograd_f4_7";
    case ConvPath::gemm: break;
    }
    return reads_input_in_place(a) ? "gemm_in_place" : reads_rows_in_place(a) ? "gemm_rows_in_place" : "gemm_im2col";
}

}  // namespace
}  // namespace tinception::kernels
