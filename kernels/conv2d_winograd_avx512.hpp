// Winograd F(2x2, 3x3) convolution for the AVX-512 table: 3x3 stride-1 layers only, picked by
// the table's conv2d (conv2d_avx512.cpp). Plain declarations; the definitions are built with
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

}  // namespace tinception::kernels
