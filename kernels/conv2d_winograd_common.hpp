// Plain C++ shared by the Winograd F(2x2, 3x3) convolutions of every ISA: which shapes take
// it and the weight transform into panels. Internal linkage, like conv2d_gemm_common.hpp, so
// each ISA file compiles its own copy with its own flags.
#pragma once
#include <cstddef>
#include <cstring>

#include "kernel_table.hpp"

namespace tinception::kernels {
namespace {

constexpr int kWinogradElements = 16;  // 4x4 transform elements

// 3x3 stride 1: depends on nothing a row band or channel group changes, so packing and
// every cut of a layer agree on the layout.
inline bool winograd_applies(const Conv2dArgs& a) {
    return a.kernel_h == 3 && a.kernel_w == 3 && a.stride_h == 1 && a.stride_w == 1;
}

template <int PanelWidth>
std::size_t winograd_packed_size(const Conv2dArgs& a) {
    const std::size_t panels = std::size_t((a.out_c + PanelWidth - 1) / PanelWidth);
    return panels * kWinogradElements * std::size_t(a.in_c) * PanelWidth * sizeof(float);
}

// packed[p][e][ic][j] = (G g G^T)[e] for output channel p*PanelWidth + j (zero past out_c),
// with G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
template <int PanelWidth>
void winograd_pack(const Conv2dArgs& a, void* packed) {
    float* dst = static_cast<float*>(packed);
    std::memset(dst, 0, winograd_packed_size<PanelWidth>(a));
    for (int oc = 0; oc < a.out_c; ++oc)
        for (int ic = 0; ic < a.in_c; ++ic) {
            const float* g = a.weights + (long(oc) * a.in_c + ic) * 9;
            float t[4][3];  // G g
            for (int c = 0; c < 3; ++c) {
                t[0][c] = g[c];
                t[1][c] = 0.5f * (g[c] + g[3 + c] + g[6 + c]);
                t[2][c] = 0.5f * (g[c] - g[3 + c] + g[6 + c]);
                t[3][c] = g[6 + c];
            }
            const long p = oc / PanelWidth, j = oc % PanelWidth;
            for (int r = 0; r < 4; ++r) {
                const float u[4] = {t[r][0], 0.5f * (t[r][0] + t[r][1] + t[r][2]),
                                    0.5f * (t[r][0] - t[r][1] + t[r][2]), t[r][2]};
                for (int c = 0; c < 4; ++c)
                    dst[((p * kWinogradElements + r * 4 + c) * a.in_c + ic) * PanelWidth + j] = u[c];
            }
        }
}

}  // namespace
}  // namespace tinception::kernels
