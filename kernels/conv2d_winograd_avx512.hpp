// Winograd convolutions for the AVX-512 table, picked by the table's conv2d (conv2d_avx512.cpp):
// F(4x4, 3x3) for 3x3 stride-1 layers at least kWinograd4x4MinWidth outputs wide and F(2x2, 3x3)
// for narrower ones, F(2x2, 5x5) for 5x5 and F(4, r) for 1xr and rx1 (r = 3, 7), all stride 1. Plain declarations; the definitions are built with
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

// Below this width a 3x3 layer's 4x4 tiles are too few: the 8x8 layers would read weights
// 36/9 the kernel's size for four tiles per image, and F(2x2, 3x3) is faster there.
constexpr int kWinograd4x4MinWidth = 16;

// True for 3x3 layers at least kWinograd4x4MinWidth wide (F(4x4, 3x3)) and 5x5 layers
// (F(2x2, 5x5)), stride 1. The width is the whole layer's, which a row band or channel group
// keeps. Packed layout: panels of 32 output channels, each [winograd_2d_elements(a)][in_c][32].
bool winograd_2d_applies(const Conv2dArgs& a);
int winograd_2d_elements(const Conv2dArgs& a);
int winograd_2d_tile(const Conv2dArgs& a);  // output rows and columns per tile
std::size_t conv2d_winograd_2d_packed_size_avx512(const Conv2dArgs& a);
void conv2d_winograd_2d_pack_avx512(const Conv2dArgs& a, void* packed);
void conv2d_winograd_2d_avx512(const Conv2dArgs& a);

// True for 1x3, 3x1, 1x7 and 7x1 kernels at stride 1. Packed layout: panels of 32 output
// channels, each [winograd_1d_elements(a)][in_c][32].
bool winograd_1d_applies(const Conv2dArgs& a);
int winograd_1d_elements(const Conv2dArgs& a);
// Rows a band must start on a multiple of: the tile height of the rx1 layers, 1 for 1xr.
int winograd_1d_row_alignment(const Conv2dArgs& a);
std::size_t conv2d_winograd_1d_packed_size_avx512(const Conv2dArgs& a);
void conv2d_winograd_1d_pack_avx512(const Conv2dArgs& a, void* packed);
void conv2d_winograd_1d_avx512(const Conv2dArgs& a);

}  // namespace tinception::kernels
