// bf16 (the upper half of an IEEE fp32) as the bf16 convolutions use it: conversion from fp32
// rounding to nearest even, back by widening, and vdpbf16ps's arithmetic, spelled out for the
// reference kernel. Header-only and ISA-free.
#pragma once
#include <cstdint>
#include <cstring>

namespace tinception::kernels::bf16 {

inline std::uint32_t bits_of(float v) {
    std::uint32_t u;
    std::memcpy(&u, &v, 4);
    return u;
}
inline float float_of(std::uint32_t u) {
    float v;
    std::memcpy(&v, &u, 4);
    return v;
}

// Round to nearest even, as vcvtneps2bf16 does (NaN stays a quiet NaN).
inline std::uint16_t from_float(float v) {
    const std::uint32_t u = bits_of(v);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return std::uint16_t((u >> 16) | 0x40);
    return std::uint16_t((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

inline float to_float(std::uint16_t h) { return float_of(std::uint32_t(h) << 16); }

// vdpbf16ps treats denormal inputs as zero and flushes denormal results to zero.
inline float flush_denormal(float v) { return (bits_of(v) & 0x7F800000u) == 0 ? float_of(bits_of(v) & 0x80000000u) : v; }

// One lane of vdpbf16ps: acc + x1 * w1, then + x0 * w0 (odd element first), each sum rounded
// to nearest even in fp32; the products of two bf16 values are exact in fp32.
inline float dot_pair(float acc, std::uint16_t x0, std::uint16_t x1, std::uint16_t w0, std::uint16_t w1) {
    acc = flush_denormal(acc);
    acc = flush_denormal(acc + flush_denormal(to_float(x1)) * flush_denormal(to_float(w1)));
    return flush_denormal(acc + flush_denormal(to_float(x0)) * flush_denormal(to_float(w0)));
}

}  // namespace tinception::kernels::bf16
