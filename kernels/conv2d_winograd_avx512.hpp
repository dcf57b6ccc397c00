// Winograd convolutions for the AVX-512 table, picked by the table's conv2d (conv2d_avx512.cpp):
// F(2x2, 3x3) for 3x3 stride-1 layers, F(2, r) for 1xr and rx1 stride-1 layers (r = 3, 7). Plain declarations; the definitions are built with
// the AVX-512 flags and must only be reached through that table.
#pragma once
#include <cstddef>

#include "kernel_table.hpp"

namespace tinception::kernels {

// True for the shapes the Winograd path takes: 3x3 kernel, stride 1. It depends on nothing a
// row band or channel group changes, so packing and every cut agree on the layout.
bool winograd_f2x2_applies(const Conv2dArgs& a);
// Packed layout: panels of 32 output channels, each [16 transform elements][in_c][32].
std::size_t conv2d_winograd_packed_size_avx512(const Conv2dArgs& a);
void conv2d_winograd_pack_avx512(const Conv2dArgs& a, void* packed);
void conv2d_winograd_avx512(const Conv2dArgs& a);

// True for 1x3, 3x1, 1x7 and 7x1 kernels at stride 1. Packed layout: panels of 32 output
// channels, each [winograd_1d_elements(a)][in_c][32].
bool winograd_1d_applies(const Conv2dArgs& a);
int winograd_1d_elements(const Conv2dArgs& a);
std::size_t conv2d_winograd_1d_packed_size_avx512(const Conv2dArgs& a);
void conv2d_winograd_1d_pack_avx512(const Conv2dArgs& a, void* packed);
void conv2d_winograd_1d_avx512(const Conv2dArgs& a);

}  // namespace tinception::kernels
