// What the SIMD int8 convolutions share: the reduction's geometry, the packed layout of quads
// of k for vpmaddubsw and vpdpbusd ([panel][quad][Panel oc][4 k]), and the epilogue's scale and
// bias for one panel. Included by ISA-flagged files only; internal linkage throughout.
#pragma once
#include <cstddef>
#include <cstdint>

#include "int8/int8_kernel_table.hpp"

namespace tinception::kernels {
namespace {

inline int reduction_length(const Conv2dInt8Args& a) { return a.kernel_h * a.kernel_w * a.in_c; }
inline int quads(const Conv2dInt8Args& a) { return (reduction_length(a) + 3) / 4; }
template <int Panel>
int panels(const Conv2dInt8Args& a) { return (a.out_c + Panel - 1) / Panel; }
// 1x1, stride 1, no padding: each output pixel's reduction row is its input pixel.
inline bool reads_in_place(const Conv2dInt8Args& a) {
    return a.kernel_h == 1 && a.kernel_w == 1 && a.stride_h == 1 && a.stride_w == 1 && a.pad_top == 0 &&
           a.pad_left == 0 && a.out_h == a.in_h && a.out_w == a.in_w;
}

template <int Panel>
std::size_t quad_packed_size(const Conv2dInt8Args& a) {
    return std::size_t(panels<Panel>(a)) * std::size_t(quads(a)) * Panel * 4;
}

// [panel][quad][Panel oc][4 k], zero past out_c and past K.
template <int Panel>
void pack_quads(const Conv2dInt8Args& a, void* packed) {
    const int k_total = reduction_length(a), q_total = quads(a);
    auto* out = static_cast<std::int8_t*>(packed);
    for (int p = 0; p < panels<Panel>(a); ++p)
        for (int q = 0; q < q_total; ++q)
            for (int j = 0; j < Panel; ++j)
                for (int b = 0; b < 4; ++b) {
                    const int oc = p * Panel + j, k = q * 4 + b;
                    *out++ = oc < a.out_c && k < k_total ? a.weights[long(oc) * k_total + k] : std::int8_t(0);
                }
}

// Channels [Panel * panel, +width) of the epilogue's scale and bias, zero past out_c; returns width.
template <int Panel>
int channel_block(const Conv2dInt8Args& a, int panel, float* scale, float* bias) {
    const int width = a.out_c - panel * Panel < Panel ? a.out_c - panel * Panel : Panel;
    for (int j = 0; j < Panel; ++j) {
        scale[j] = j < width ? a.scale[panel * Panel + j] : 0.0f;
        bias[j] = j < width ? a.bias[panel * Panel + j] : 0.0f;
    }
    return width;
}

}  // namespace
}  // namespace tinception::kernels
