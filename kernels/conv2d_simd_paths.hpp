// The convolution entries of a SIMD kernel table, over its micro-kernel G (gemm_tile_*.hpp):
// each layer takes the path conv2d_path.hpp chooses, with the path's own packed layout.
// Internal linkage: each ISA file compiles its own copy.
#pragma once
#include <cstddef>

#include "conv2d_gemm_driver.hpp"
#include "conv2d_path.hpp"
#include "conv2d_winograd_1d.hpp"
#include "conv2d_winograd_2d.hpp"
#include "conv2d_winograd_f2x2_3x3.hpp"
#include "kernel_table.hpp"

namespace tinception::kernels {
namespace {

template <class G>
ConvPath conv_path(const Conv2dArgs& a) {
    return conv_path(a, G::kWinogradMinInC);
}

template <class G>
const char* conv2d_simd_path(const Conv2dArgs& a) {
    return conv_path_name(a, G::kWinogradMinInC);
}

template <class G>
void conv2d_simd(const Conv2dArgs& a) {
    switch (conv_path<G>(a)) {
    case ConvPath::winograd_f2x2_3x3: return conv2d_winograd_f2x2_3x3<G>(a);
    case ConvPath::winograd_f4x4_3x3: return conv2d_winograd_f4x4_3x3<G>(a);
    case ConvPath::winograd_f2x2_5x5: return conv2d_winograd_f2x2_5x5<G>(a);
    case ConvPath::winograd_f4_3: return conv2d_winograd_f4_3<G>(a);
    case ConvPath::winograd_f4_7: return conv2d_winograd_f4_7<G>(a);
    case ConvPath::gemm: break;
    }
    conv2d_gemm<G>(a);
}

template <class G>
std::size_t conv2d_simd_packed_size(const Conv2dArgs& a) {
    switch (conv_path<G>(a)) {
    case ConvPath::winograd_f2x2_3x3: return winograd_f2x2_3x3_packed_size<G>(a);
    case ConvPath::winograd_f4x4_3x3: return winograd_2d_packed_size<G, 4, 3>(a);
    case ConvPath::winograd_f2x2_5x5: return winograd_2d_packed_size<G, 2, 5>(a);
    case ConvPath::winograd_f4_3: return winograd_1d_packed_size<G, 4, 3>(a);
    case ConvPath::winograd_f4_7: return winograd_1d_packed_size<G, 4, 7>(a);
    case ConvPath::gemm: break;
    }
    return gemm_packed_size<G>(a);
}

template <class G>
void conv2d_simd_pack(const Conv2dArgs& a, void* packed) {
    switch (conv_path<G>(a)) {
    case ConvPath::winograd_f2x2_3x3: return winograd_f2x2_3x3_pack<G>(a, packed);
    case ConvPath::winograd_f4x4_3x3: return winograd_2d_pack<G, 4, 3>(a, packed);
    case ConvPath::winograd_f2x2_5x5: return winograd_2d_pack<G, 2, 5>(a, packed);
    case ConvPath::winograd_f4_3: return winograd_1d_pack<G, 4, 3>(a, packed);
    case ConvPath::winograd_f4_7: return winograd_1d_pack<G, 4, 7>(a, packed);
    case ConvPath::gemm: break;
    }
    gemm_pack<G>(a, packed);
}

template <class G>
std::size_t conv2d_simd_workspace_size(const Conv2dArgs& a) {
    switch (conv_path<G>(a)) {
    case ConvPath::winograd_f2x2_3x3:
        return winograd_workspace_size<G>(a, kWinogradF2x2_3x3Elements, winograd_f2x2_3x3_packed_size<G>(a));
    case ConvPath::winograd_f4x4_3x3:
        return winograd_workspace_size<G>(a, Winograd2dPlan<4, 3>::kElements, winograd_2d_packed_size<G, 4, 3>(a));
    case ConvPath::winograd_f2x2_5x5:
        return winograd_workspace_size<G>(a, Winograd2dPlan<2, 5>::kElements, winograd_2d_packed_size<G, 2, 5>(a));
    case ConvPath::winograd_f4_3:
        return winograd_workspace_size<G>(a, Winograd1d<4, 3>::kAlpha, winograd_1d_packed_size<G, 4, 3>(a));
    case ConvPath::winograd_f4_7:
        return winograd_workspace_size<G>(a, Winograd1d<4, 7>::kAlpha, winograd_1d_packed_size<G, 4, 7>(a));
    case ConvPath::gemm: break;
    }
    return gemm_workspace_size<G>(a);
}

// Every layout is panel-major: a panel holds, per input channel, the transformed taps
// (Winograd) or the kernel's taps (GEMM).
template <class G>
std::size_t conv2d_simd_packed_offset(const Conv2dArgs& a, int first_channel) {
    long per_channel = reduction_length(a);
    switch (conv_path<G>(a)) {
    case ConvPath::winograd_f2x2_3x3: per_channel = long(kWinogradF2x2_3x3Elements) * a.in_c; break;
    case ConvPath::winograd_f4x4_3x3: per_channel = long(Winograd2dPlan<4, 3>::kElements) * a.in_c; break;
    case ConvPath::winograd_f2x2_5x5: per_channel = long(Winograd2dPlan<2, 5>::kElements) * a.in_c; break;
    case ConvPath::winograd_f4_3: per_channel = long(Winograd1d<4, 3>::kAlpha) * a.in_c; break;
    case ConvPath::winograd_f4_7: per_channel = long(Winograd1d<4, 7>::kAlpha) * a.in_c; break;
    case ConvPath::gemm: break;
    }
    return std::size_t(first_channel) * std::size_t(per_channel) / G::kValuesPerSlot;  // in 32-bit slots
}

// Bands start where the uncut call's tiles do.
template <class G>
int conv2d_simd_row_alignment(const Conv2dArgs& a) {
    switch (conv_path<G>(a)) {
    case ConvPath::winograd_f2x2_3x3: return 2;
    case ConvPath::winograd_f4x4_3x3: return 4;
    case ConvPath::winograd_f2x2_5x5: return 2;
    case ConvPath::winograd_f4_3:
    case ConvPath::winograd_f4_7: return winograd_1d_row_alignment<4>(a);
    case ConvPath::gemm: break;
    }
    return 1;
}

template <class G>
void set_conv2d_entries(KernelTable& t) {
    t.conv2d = conv2d_simd<G>;
    t.conv2d_packed_size = conv2d_simd_packed_size<G>;
    t.conv2d_pack = conv2d_simd_pack<G>;
    t.conv2d_workspace_size = conv2d_simd_workspace_size<G>;
    t.conv2d_packed_offset = conv2d_simd_packed_offset<G>;
    t.conv2d_panel_width = G::kPanelWidth;
    t.conv2d_row_alignment = conv2d_simd_row_alignment<G>;
    t.conv2d_path = conv2d_simd_path<G>;
}

}  // namespace
}  // namespace tinception::kernels
