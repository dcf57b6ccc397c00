// vdpbf16ps for the AVX-512 BF16 kernels, written in place: GCC 12's intrinsic copies the
// accumulator around every instruction (as with vpdpbusd), which spills a tile held in
// registers. Included only by *_avx512.cpp files of the avx512_bf16 library.
#pragma once
#include <immintrin.h>

namespace tinception::kernels {
namespace {

// acc + the two bf16 products of each lane: x's and w's odd elements first, then the even.
inline __m512 dpbf16(__m512 acc, __m512i x, __m512i w) {
    asm("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
    return acc;
}

}  // namespace
}  // namespace tinception::kernels
